-- +goose Up
-- Sessions that end when they should: the token generation of accounts
-- (read model), refresh-token families (rotation with reuse detection) and
-- the failed-login throttle. Families and the throttle are security
-- telemetry, not domain state: kept in place, shared by every process, and
-- not rebuilt from the log.

-- The generation every token of the account must carry (projection
-- "users"): the count of the account's events that end its sessions
-- (domain.EndsSessions). Rows the projection wrote before this column
-- existed get the count of those events it had already folded, so the read
-- model matches the fold from here on.
ALTER TABLE users ADD COLUMN token_generation bigint NOT NULL DEFAULT 0;
UPDATE users u SET token_generation = g.n
FROM (
    SELECT stream_id, count(*) AS n
    FROM events
    WHERE stream_id LIKE 'user-%'
      AND event_type IN ('user.password_changed', 'user.password_reset', 'user.superuser_revoked',
                         'user.locked', 'user.deactivated', 'user.sessions_revoked')
      AND global_position <= coalesce((SELECT commit_position FROM projection_checkpoints WHERE name = 'users'), 0)
    GROUP BY stream_id
) g
WHERE g.stream_id = 'user-' || u.id;

-- One row per login: the refresh tokens descended from it. Only the newest
-- refresh token of a family may be used (current_hash, the SHA-256 of its
-- jti; tokens are never stored); presenting an older one is a reuse, which
-- revokes the family and every access token issued in it. expires_at is
-- the session's absolute end (SKILLFLAW_SESSION_MAX_LIFETIME after the
-- login): no token of the family is valid past it.
CREATE TABLE refresh_families (
    id             uuid        PRIMARY KEY,
    user_id        bigint      NOT NULL,
    current_hash   text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    rotated_at     timestamptz,
    rotations      bigint      NOT NULL DEFAULT 0,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id, expires_at);

-- Failed logins per (login name, client address): name_hash is the
-- SHA-256 of the lower-cased name (attempted names may be mistyped
-- passwords: never kept in clear), address the client IP (IPv6: its /64).
-- failures counts consecutive failures; locked_until refuses the address
-- for that name until then.
CREATE TABLE login_throttle (
    name_hash       text        NOT NULL,
    address         text        NOT NULL,
    failures        integer     NOT NULL DEFAULT 0,
    last_failure_at timestamptz,
    locked_until    timestamptz,
    PRIMARY KEY (name_hash, address)
);
CREATE INDEX login_throttle_last_failure_idx ON login_throttle (last_failure_at);

-- +goose Down
DROP TABLE login_throttle;
DROP TABLE refresh_families;
ALTER TABLE users DROP COLUMN token_generation;

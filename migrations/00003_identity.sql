-- +goose Up
-- Identity: user ids, the users and api_keys read models (projection
-- "users"), API key usage counters and server secrets.

-- User ids are allocated before a registration is appended (DESIGN.md:
-- integer ids come from sequences). A gap is harmless.
CREATE SEQUENCE user_id_seq;

-- Read model of the "users" projection: one row per account that is not
-- deleted. No password hashes here: logins fold the account's stream.
CREATE TABLE users (
    id            bigint      PRIMARY KEY,
    username      text        NOT NULL,
    nickname      text        NOT NULL DEFAULT '',
    mobile        text        NOT NULL DEFAULT '',
    email         text        NOT NULL DEFAULT '',
    profile_image text        NOT NULL DEFAULT '',
    store_api_key text        NOT NULL DEFAULT '',
    reset_passwd  boolean     NOT NULL DEFAULT false,
    is_active     boolean     NOT NULL,
    is_superuser  boolean     NOT NULL,
    is_locked     boolean     NOT NULL DEFAULT false,
    is_sso        boolean     NOT NULL DEFAULT false,
    optins        jsonb,
    create_at     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    created_by    bigint      NOT NULL DEFAULT 0,
    version       bigint      NOT NULL
);
-- Usernames are unique case-insensitively (claims enforce it on the write
-- side; this index serves lookups and sorting).
CREATE INDEX users_username_idx ON users (lower(username));
CREATE INDEX users_nickname_idx ON users (nickname);
CREATE INDEX users_email_idx ON users (email);
CREATE INDEX users_mobile_idx ON users (mobile);

-- Read model of the "users" projection: API keys by hash (never the key).
CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY,
    user_id    bigint      NOT NULL,
    name       text        NOT NULL DEFAULT '',
    key_hash   text        NOT NULL,
    key_prefix text        NOT NULL,
    key_length integer     NOT NULL,
    is_active  boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);
CREATE INDEX api_keys_key_hash_idx ON api_keys (key_hash);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- Usage counters of API keys (Langflow's total_uses and last_used_at).
-- They are telemetry, not changes of anything: counted in place by the
-- authenticator, outside the event log, and kept across rebuilds.
CREATE TABLE api_key_usage (
    api_key_id   uuid        PRIMARY KEY,
    total_uses   bigint      NOT NULL,
    last_used_at timestamptz NOT NULL
);

-- Secrets the server generates once and every node shares (the JWT
-- signing key when SKILLFLAW_SECRET_KEY is not set). Never in the log.
CREATE TABLE server_secrets (
    name       text        PRIMARY KEY,
    value      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE server_secrets;
DROP TABLE api_key_usage;
DROP TABLE api_keys;
DROP TABLE users;
DROP SEQUENCE user_id_seq;

// Package auth is who is calling: password hashes (bcrypt), the access and
// refresh JWTs (HS256, with a "type" claim), API keys (random, stored as
// SHA-256 hashes), the signing secret (configured, or generated once and
// kept in the database), and the Authenticator that resolves a request's
// credentials in Langflow's order — Authorization: Bearer, then the
// access_token_lf cookie, then an x-api-key query parameter or header — into
// a Principal in the request context. Sessions (refresh families with
// rotation and reuse detection, an absolute lifetime) and the failed-login
// throttle keep their state in PostgreSQL tables every process shares; a
// token is also refused once the account's token generation (folded from
// its events) has moved past the one it carries.
//
// Errors carry Langflow's status codes and messages, so Langflow clients
// react to them as they do to Langflow.
package auth

// Package httpapi is the HTTP plumbing shared by the query side (readapi)
// and the write side (commands): a gin Server whose routes are registered
// once, as Operations, and feed both the router and the OpenAPI document
// served at /openapi.json and /docs.
//
// It also owns what every endpoint must do the same way: request ids,
// panic recovery, the access log, CORS, body limits, FastAPI-shaped errors
// (Fail, and the Bind helpers that answer 422 like pydantic v2), and read
// your writes: a write reports its event position with Written, and a read
// that sends X-Min-Position waits until its read models have caught up.
package httpapi

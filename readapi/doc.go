// Package readapi serves the query side of the API: endpoints that read
// read models (never aggregates) and the service endpoints of Langflow —
// health checks, version and frontend configuration. Each resource has its
// own file and a Register function that adds its operations to an
// httpapi.Server.
package readapi

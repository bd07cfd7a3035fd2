package mcpserver

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/engine"
)

// MaxResourceBytes is the largest file resources/read answers.
const MaxResourceBytes = 32 << 20

// Server returns the MCP server of caller: their tools (Tools) and their
// resources (Resources, addressed under base, e.g. "http://host:7860").
// Each session gets its own, built when it opens (SSE) or for each
// request (stateless streamable HTTP).
func (s *Service) Server(ctx context.Context, caller auth.Principal, base string) (*mcp.Server, error) {
	srv := mcp.NewServer(&mcp.Implementation{Name: ServerName, Version: s.Version}, &mcp.ServerOptions{
		Logger: s.Logger, Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}, Resources: &mcp.ResourceCapabilities{}},
	})
	tools, err := s.Tools(ctx, caller)
	if err != nil {
		return nil, err
	}
	for _, t := range tools {
		srv.AddTool(t.Tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return s.call(ctx, caller, t, req)
		})
	}
	resources, err := s.Resources(ctx, caller, base)
	if err != nil {
		return nil, err
	}
	for _, r := range resources {
		srv.AddResource(r, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return s.read(ctx, caller, req.Params.URI)
		})
	}
	return srv, nil
}

// downloadPath is where a resource's URI names its file.
const downloadPath = "/api/v1/files/download/"

// Resources lists caller's files as resources, as Langflow's server: the
// files of their flows (description "File in flow: <flow>") and their
// user files ("User file uploaded via File Manager", or the file's
// provider), each at <base>/api/v1/files/download/<flow id or user
// id>/<name>.
func (s *Service) Resources(ctx context.Context, caller auth.Principal, base string) ([]*mcp.Resource, error) {
	rows, err := s.Pool.Query(ctx, `SELECT f.path, f.name, CASE WHEN f.kind = 'flow' THEN 'File in flow: ' || fl.name
  WHEN f.provider <> '' AND f.provider <> 'local' THEN f.provider ELSE 'User file uploaded via File Manager' END
FROM files f LEFT JOIN flows fl ON fl.id = f.flow_id
WHERE (f.kind = 'flow' AND fl.user_id = $1 AND NOT fl.is_deleted) OR (f.kind = 'user' AND f.user_id = $1)
ORDER BY f.kind, f.created_at, f.id`, caller.UserID)
	if err != nil {
		return nil, fmt.Errorf("list MCP resources: %w", err)
	}
	type file struct{ path, name, desc string }
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (file, error) {
		var f file
		return f, r.Scan(&f.path, &f.name, &f.desc)
	})
	if err != nil {
		return nil, fmt.Errorf("list MCP resources: %w", err)
	}
	out := make([]*mcp.Resource, 0, len(files))
	for _, f := range files {
		dir, name := path.Split(f.path)
		u := strings.TrimSuffix(base, "/") + downloadPath + dir + url.PathEscape(name)
		out = append(out, &mcp.Resource{URI: u, Name: f.name, Description: f.desc, MIMEType: mimeOf(f.name)})
	}
	return out, nil
}

func mimeOf(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// read answers resources/read of uri: the file its last two path
// segments name (<flow id or user id>/<name>), if caller may read it,
// base64 (a blob).
func (s *Service) read(ctx context.Context, caller auth.Principal, uri string) (*mcp.ReadResourceResult, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	p := strings.Trim(u.Path, "/")
	i := strings.LastIndex(p, "/")
	j := strings.LastIndex(p[:max(i, 0)], "/")
	if i < 0 {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	name, err := url.PathUnescape(p[i+1:])
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	_, content, err := s.Files.Read(ctx, engine.RunInfo{UserID: caller.UserID}, p[j+1:i]+"/"+name, MaxResourceBytes)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: mimeOf(name), Blob: content}}}, nil
}

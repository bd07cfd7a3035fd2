package components

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// APIRequest is Langflow's API Request: one HTTP request (GET, POST,
// PATCH, PUT or DELETE) to the URL (https:// added when it has no
// scheme) with the query parameters (a Data's dict) added, the headers
// table, and the body table sent as a JSON object, as httpx sends it. The
// output Data holds source, status_code, response_headers (lower-cased)
// and result: the response's JSON, else its text; redirection_history
// when redirects were followed (follow_redirects, off by default as in
// Langflow 1.7), the request headers with include_httpx_metadata. A
// request that fails (connection, timeout) gives Data with status_code
// 500 and the error, as Langflow.
//
// Unlike Langflow, the request goes only through the run's egress client
// (Env.HTTP): an address of the server's own machine or network, after
// DNS and on every redirect, is refused and fails the vertex; so does a
// response body over MaxResponseBytes. The timeout (seconds) is capped at
// five minutes. save_to_file is refused: a flow does not write files on
// the server.
type APIRequest struct {
	// MaxResponseBytes bounds the response body (DefaultMaxResponseBytes
	// when 0).
	MaxResponseBytes int64
}

// Spec implements engine.Component.
func (APIRequest) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "APIRequest", Category: "data_source", DisplayName: "API Request",
		Description: "Make HTTP requests using URL or cURL commands.", Icon: "Globe", BaseClasses: []string{"Data"},
		Fields: []engine.FieldSpec{
			messageTextInput("url_input", "URL", "", toolArg, info("Enter the URL for the request.")),
			multilineInput("curl_input", "cURL", "", toolArg, advanced, hidden,
				info("Paste a curl command to populate the fields. This will fill in the dictionary fields for headers and body.")),
			dropdownInput("method", "Method", "GET", []string{"GET", "POST", "PATCH", "PUT", "DELETE"}, info("The HTTP method to use.")),
			tabInput("mode", "Mode", "URL", []string{"URL", "cURL"}, info("Enable cURL mode to populate fields from a cURL command.")),
			field("other", "DataInput", "query_params", "Query Parameters", "", []string{"Data"},
				[]fieldOpt{advanced, info("The query parameters to append to the URL.")}),
			field("table", "TableInput", "body", "Body", []any{}, []string{"Data"},
				[]fieldOpt{advanced, info("The body to send with the request as a dictionary (for POST, PATCH, PUT).")}),
			field("table", "TableInput", "headers", "Headers", []any{map[string]any{"key": "User-Agent", "value": "Langflow/1.0"}}, []string{"Data"},
				[]fieldOpt{advanced, info("The headers to send with the request")}),
			intInput("timeout", "Timeout", 30, advanced, info("The timeout to use for the request.")),
			boolInput("follow_redirects", "Follow Redirects", false, advanced, info("Whether to follow HTTP redirects. "+
				"WARNING: Enabling redirects may allow SSRF bypass attacks where a public URL redirects to internal resources. "+
				"Only enable if you trust the target server. See OWASP SSRF Prevention Cheat Sheet for details.")),
			boolInput("save_to_file", "Save to File", false, advanced, info("Save the API response to a temporary file")),
			boolInput("include_httpx_metadata", "Include HTTPx Metadata", false, advanced,
				info("Include properties such as headers, status_code, response_headers, and redirection_history in the output.")),
		},
		Outputs: []engine.OutputSpec{output("data", "API Response", "make_api_request", "Data")},
	}
}

// Build implements engine.Component.
func (c APIRequest) Build(ctx context.Context, b *engine.Build) error {
	client, err := httpClient(b, "API Request")
	if err != nil {
		return err
	}
	if b.Bool("save_to_file") {
		return errors.New("Save to File is not supported: a flow does not write files on this server")
	}
	method := strings.ToUpper(b.Str("method"))
	if method == "" {
		method = http.MethodGet
	}
	if !slices.Contains([]string{"GET", "POST", "PATCH", "PUT", "DELETE"}, method) {
		return fmt.Errorf("Unsupported method: %s", method)
	}
	raw := strings.TrimSpace(b.Str("url_input"))
	if raw == "" {
		return errors.New("URL cannot be empty")
	}
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		raw = "https://" + raw
	}
	u, ok := checkURL(raw)
	if !ok {
		return fmt.Errorf("Invalid URL provided: %s", raw)
	}
	addQuery(u, param(b, "query_params"))
	target := u.String()
	headers := requestHeaders(param(b, "headers"))
	body, err := json.Marshal(jsonable(requestBody(param(b, "body"))))
	if err != nil {
		return fmt.Errorf("encode the body: %w", err)
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}

	ctx, cancel := context.WithTimeout(ctx, timeoutOf(b, "timeout"))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("Invalid URL provided: %s", raw)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, engine.PyStr(v))
	}
	// A copy of the egress client (same transport, so the same checks on
	// every connection) that records or stops redirects.
	var history []any
	follow := b.Bool("follow_redirects")
	cl := *client
	cl.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse
		}
		prev := next.Response
		loc := prev.Header.Get("Location")
		if loc == "" {
			loc = via[len(via)-1].URL.String()
		}
		history = append(history, map[string]any{"url": loc, "status_code": int64(prev.StatusCode)})
		if client.CheckRedirect != nil {
			return client.CheckRedirect(next, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}

	out := map[string]any{"source": target}
	resp, err := cl.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var data []byte
		data, err = readBody(resp.Body, limit)
		if err == nil {
			out["status_code"] = int64(resp.StatusCode)
			rh := map[string]any{}
			for k, vs := range resp.Header {
				rh[strings.ToLower(k)] = strings.Join(vs, ", ")
			}
			out["response_headers"] = rh
			if len(history) > 0 {
				out["redirection_history"] = history
			}
			out["result"] = responseResult(data)
			if b.Bool("include_httpx_metadata") {
				out["headers"] = headers
			}
		}
	}
	if err != nil {
		if r := refusal(err); r != nil {
			return fmt.Errorf("request to %s: %w", target, r)
		}
		out = map[string]any{"source": target, "headers": headers, "status_code": int64(500), "error": err.Error()}
		if len(history) > 0 {
			out["redirection_history"] = history
		}
	}
	d := engine.NewData(out)
	b.SetStatus(d)
	b.Set("data", d)
	return nil
}

// responseResult is the response's JSON value, else its text.
func responseResult(data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		return v
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// addQuery sets the query parameters of a Data (or a dict, or a query
// string) on u, replacing those of the same name.
func addQuery(u *url.URL, v engine.Value) {
	var params map[string]any
	switch x := v.(type) {
	case *engine.Data:
		params = x.Map
	case map[string]any:
		params = x
	case string:
		q, err := url.ParseQuery(x)
		if err != nil {
			return
		}
		params = map[string]any{}
		for k, vs := range q {
			params[k] = vs[len(vs)-1]
		}
	}
	if len(params) == 0 {
		return
	}
	q := u.Query()
	for k, p := range params {
		q.Set(k, engine.PyStr(p))
	}
	u.RawQuery = q.Encode()
}

// requestHeaders returns the headers of the headers field: a dict as is,
// a table's key/value rows.
func requestHeaders(v engine.Value) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case *engine.Data:
		return x.Map
	}
	h := map[string]any{}
	items, _ := asList(v)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && isKeyValue(m) {
			h[engine.PyStr(m["key"])] = m["value"]
		}
	}
	return h
}

func isKeyValue(m map[string]any) bool {
	_, k := m["key"]
	_, v := m["value"]
	return k && v
}

// requestBody turns the body field into the dict sent, as Langflow's
// _process_body: a Data's or a dict's values parsed when they are JSON
// text, text parsed as JSON (else {"data": text}), a table's key/value
// rows (a Data in it that is not a key/value row is the body).
func requestBody(v engine.Value) map[string]any {
	switch x := v.(type) {
	case nil:
		return map[string]any{}
	case *engine.Data:
		return requestBody(x.Map)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = parseJSONValue(e)
		}
		return out
	case string:
		if x == "" {
			return map[string]any{}
		}
		dec := json.NewDecoder(strings.NewReader(x))
		dec.UseNumber()
		var parsed any
		if err := dec.Decode(&parsed); err != nil || dec.More() {
			return map[string]any{"data": x}
		}
		return requestBody(parsed)
	}
	items, ok := asList(v)
	if !ok {
		return map[string]any{}
	}
	out := map[string]any{}
	for _, it := range items {
		var m map[string]any
		switch e := it.(type) {
		case *engine.Data:
			if !isKeyValue(e.Map) {
				return e.Map
			}
			m = e.Map
		case map[string]any:
			m = e
		}
		if m == nil || !isKeyValue(m) {
			continue
		}
		out[engine.PyStr(m["key"])] = parseJSONValue(m["value"])
	}
	return out
}

// parseJSONValue parses text that is JSON; other values stay as they are.
func parseJSONValue(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var parsed any
	if err := dec.Decode(&parsed); err != nil || dec.More() {
		return v
	}
	return parsed
}

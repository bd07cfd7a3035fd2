package components

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
)

// The bounds of the components that reach the network (URL, API
// Request). Their timeouts come from the node (seconds), capped.
const (
	// DefaultMaxResponseBytes bounds the body of one response.
	DefaultMaxResponseBytes = 8 << 20
	// maxCrawlPages bounds the pages one URL component build fetches.
	maxCrawlPages = 100
	// maxFetchTimeout caps a node's timeout.
	maxFetchTimeout = 5 * time.Minute
	defaultTimeout  = 30 * time.Second
)

// ErrResponseTooLarge is the failure of a response whose body passes the
// size limit.
var ErrResponseTooLarge = errors.New("the response is larger than the size limit")

// httpClient returns the run's egress client: the components reach the
// network only through it.
func httpClient(b *engine.Build, component string) (*http.Client, error) {
	c := b.Env().HTTP
	if c == nil {
		return nil, fmt.Errorf("the %s component cannot reach the network: this server gave the run no egress HTTP client", component)
	}
	return c, nil
}

// timeoutOf returns field name's timeout (seconds), the default when it
// is absent or not positive, capped at maxFetchTimeout.
func timeoutOf(b *engine.Build, name string) time.Duration {
	n, ok := b.Int(name)
	if !ok || n <= 0 {
		return defaultTimeout
	}
	if time.Duration(n) > maxFetchTimeout/time.Second {
		return maxFetchTimeout
	}
	return time.Duration(n) * time.Second
}

// readBody reads at most limit bytes of r; more is ErrResponseTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", ErrResponseTooLarge, limit)
	}
	return body, nil
}

// refusal returns err as the refusal it holds (the egress policy's, or the
// size limit's), nil if it is another failure.
func refusal(err error) error {
	if errors.Is(err, egress.ErrRefused) || errors.Is(err, ErrResponseTooLarge) {
		return err
	}
	return nil
}

// validHost is a DNS name or an IP address (IPv6 in brackets in the URL).
var validHost = regexp.MustCompile(`^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?|[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?)$`)

// checkURL parses u, which must be an absolute http(s) URL with a host.
func checkURL(u string) (*url.URL, bool) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" || p.User != nil ||
		strings.HasSuffix(p.Host, ":") || !validHost.MatchString(p.Hostname()) {
		return nil, false
	}
	return p, true
}

// tableRows returns a table field's rows: a list of dicts (the node's
// table), a DataFrame's rows, a Data's dict as one row.
func tableRows(v engine.Value) []map[string]any {
	switch x := v.(type) {
	case *engine.DataFrame:
		return x.Rows
	case *engine.Data:
		return []map[string]any{x.Map}
	}
	items, _ := asList(v)
	var rows []map[string]any
	for _, it := range items {
		switch r := it.(type) {
		case map[string]any:
			rows = append(rows, r)
		case *engine.Data:
			rows = append(rows, r.Map)
		}
	}
	return rows
}

// URLComponent is Langflow's URL (URLComponent): it fetches each URL and,
// up to max_depth (1–5) clicks away, the pages it links to (links under
// the URL itself with prevent_outside), as LangChain's RecursiveUrlLoader
// does, and gives one row per page: its text (the page's text, raw HTML,
// or Markdown), url, title, description, content_type and language. The
// DataFrame of the rows is "page_results"; "raw_results" is a message of
// the texts joined by blank lines.
//
// Every request goes through the run's egress client (Env.HTTP): a URL
// whose address, after DNS and on every redirect, is the server's own
// machine or network is refused, and a refused start URL fails the vertex
// (a refused link is skipped). A response is bounded by MaxResponseBytes,
// a build by maxCrawlPages pages, each request by the node's timeout.
// Pages are read as UTF-8.
type URLComponent struct {
	// MaxResponseBytes bounds one response (DefaultMaxResponseBytes when
	// 0).
	MaxResponseBytes int64
}

// Spec implements engine.Component.
func (URLComponent) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "URLComponent", Category: "data_source", DisplayName: "URL",
		Description: "Fetch content from one or more web pages, following links recursively.", Icon: "layout-template",
		BaseClasses: []string{"DataFrame", "Message"},
		Fields: []engine.FieldSpec{
			messageTextInput("urls", "URLs", "", isList, toolArg, inputTypes(),
				info("Enter one or more URLs to crawl recursively, by clicking the '+' button.")),
			sliderInput("max_depth", "Depth", 1, info("Controls how many 'clicks' away from the initial page the crawler will go:\n"+
				"- depth 1: only the initial page\n- depth 2: initial page + all pages linked directly from it\n"+
				"- depth 3: initial page + direct links + links found on those direct link pages\n"+
				"Note: This is about link traversal, not URL path depth.")),
			boolInput("prevent_outside", "Prevent Outside", true, advanced, info("If enabled, only crawls URLs within the same domain as the root URL. "+
				"This helps prevent the crawler from going to external websites.")),
			boolInput("use_async", "Use Async", true, advanced, info("If enabled, uses asynchronous loading which can be significantly faster "+
				"but might use more system resources.")),
			dropdownInput("format", "Output Format", "Text", []string{"Text", "HTML", "Markdown"}, advanced,
				info("Output Format. Use 'Text' to extract the text from the HTML, 'Markdown' to parse the HTML into Markdown format, "+
					"or 'HTML' for the raw HTML content.")),
			intInput("timeout", "Timeout", 30, advanced, info("Timeout for the request in seconds.")),
			field("table", "TableInput", "headers", "Headers", []any{map[string]any{"key": "User-Agent", "value": "lfx"}},
				[]string{"DataFrame"}, []fieldOpt{advanced, info("The headers to send with the request")}),
			boolInput("filter_text_html", "Filter Text/HTML", true, advanced, info("If enabled, filters out text/css content type from the results.")),
			boolInput("continue_on_failure", "Continue on Failure", true, advanced, info("If enabled, continues crawling even if some requests fail.")),
			boolInput("check_response_status", "Check Response Status", false, advanced, info("If enabled, checks the response status of the request.")),
			boolInput("autoset_encoding", "Autoset Encoding", true, advanced, info("If enabled, automatically sets the encoding of the request.")),
		},
		Outputs: []engine.OutputSpec{
			output("page_results", "Extracted Pages", "fetch_content", "DataFrame"),
			output("raw_results", "Raw Content", "fetch_content_as_message"),
		},
	}
}

// ToolOutputs names the outputs that are tools in tool mode: Langflow
// marks raw_results tool_mode=False.
func (URLComponent) ToolOutputs() []string { return []string{"page_results"} }

// pageColumns are the columns of URLComponent's rows.
var pageColumns = []string{"text", "url", "title", "description", "content_type", "language"}

// Build implements engine.Component.
func (c URLComponent) Build(ctx context.Context, b *engine.Build) error {
	rows, err := c.fetch(ctx, b)
	if err != nil {
		return fmt.Errorf("Error loading documents: %w", err)
	}
	if b.Wants("page_results") {
		b.Set("page_results", &engine.DataFrame{Rows: rows, Columns: slices.Clone(pageColumns)})
	}
	if b.Wants("raw_results") {
		texts := make([]string, len(rows))
		list := make([]any, len(rows))
		for i, r := range rows {
			texts[i], _ = r["text"].(string)
			list[i] = r
		}
		m := engine.NewMessage(strings.Join(texts, "\n\n"))
		m.Data = map[string]any{"data": list}
		b.Set("raw_results", m)
	}
	return nil
}

// urlList returns the URLs of a list field (texts or messages), trimmed,
// blanks dropped.
func urlList(b *engine.Build, name string) []string {
	v, _ := b.Param(name)
	items, ok := asList(v)
	if !ok {
		items = []engine.Value{v}
	}
	var out []string
	for _, it := range items {
		if it == nil {
			continue
		}
		if s := strings.TrimSpace(engine.Text(it)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ensureURL adds the scheme a URL lacks (defScheme) and checks it.
func ensureURL(u, defScheme string) (string, error) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = defScheme + u
	}
	if _, ok := checkURL(u); !ok {
		return "", fmt.Errorf("Invalid URL: %s", u)
	}
	return u, nil
}

func (c URLComponent) fetch(ctx context.Context, b *engine.Build) ([]map[string]any, error) {
	client, err := httpClient(b, "URL")
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, u := range urlList(b, "urls") {
		u, err := ensureURL(u, "https://")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return nil, errors.New("No valid URLs provided.")
	}
	depth, _ := b.Int("max_depth")
	depth = min(max(depth, 1), 5)
	cr := &crawler{client: client, limit: c.MaxResponseBytes, timeout: timeoutOf(b, "timeout"),
		headers: headerMap(tableRows(param(b, "headers"))), format: b.Str("format"),
		checkStatus: b.Bool("check_response_status"), keepGoing: b.Bool("continue_on_failure"),
		outside: !b.Bool("prevent_outside"), maxDepth: int(depth), seen: map[string]bool{}}
	if cr.limit <= 0 {
		cr.limit = DefaultMaxResponseBytes
	}
	var rows []map[string]any
	var firstErr error
	for _, u := range urls {
		got, err := cr.crawl(ctx, u)
		if err != nil {
			if r := refusal(err); r != nil || !cr.keepGoing || ctx.Err() != nil {
				return nil, err
			}
			firstErr = cmpErr(firstErr, err)
			continue
		}
		rows = append(rows, got...)
	}
	if len(rows) == 0 {
		if firstErr != nil {
			return nil, fmt.Errorf("No documents were successfully loaded from any URL (%w)", firstErr)
		}
		return nil, errors.New("No documents were successfully loaded from any URL")
	}
	return rows, nil
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// param returns parameter name (nil when absent).
func param(b *engine.Build, name string) engine.Value {
	v, _ := b.Param(name)
	return v
}

// headerMap returns the key/value rows of a headers table (rows without a
// value are left out).
func headerMap(rows []map[string]any) map[string]string {
	h := map[string]string{}
	for _, r := range rows {
		k, okK := r["key"]
		v, okV := r["value"]
		if !okK || !okV || v == nil {
			continue
		}
		h[engine.PyStr(k)] = engine.PyStr(v)
	}
	return h
}

// crawler fetches pages as RecursiveUrlLoader does.
type crawler struct {
	client      *http.Client
	limit       int64
	timeout     time.Duration
	headers     map[string]string
	format      string
	checkStatus bool
	keepGoing   bool
	outside     bool
	maxDepth    int
	seen        map[string]bool
	pages       int
}

// crawl fetches root and the pages it links to. A failure of root is
// returned; a failure of a linked page is skipped when continuing on
// failure.
func (c *crawler) crawl(ctx context.Context, root string) ([]map[string]any, error) {
	type item struct {
		url   string
		depth int
	}
	var rows []map[string]any
	queue := []item{{root, 0}}
	c.seen[root] = true
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if c.pages >= maxCrawlPages {
			break
		}
		c.pages++
		page, ctype, err := c.get(ctx, it.url)
		if err != nil {
			if it.url == root || !c.keepGoing || ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", it.url, err)
			}
			continue
		}
		if text := c.extract(page); text != "" {
			row := pageMeta(page, it.url, ctype)
			row["text"] = cleanString(text)
			rows = append(rows, row)
		}
		if it.depth+1 >= c.maxDepth {
			continue
		}
		for _, l := range subLinks(page, it.url, root, c.outside) {
			if !c.seen[l] {
				c.seen[l] = true
				queue = append(queue, item{l, it.depth + 1})
			}
		}
	}
	return rows, nil
}

// get fetches one page through the egress client.
func (c *crawler) get(ctx context.Context, u string) (body, contentType string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "", err
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if c.checkStatus && resp.StatusCode >= 400 {
		return "", "", fmt.Errorf("Received HTTP status %d", resp.StatusCode)
	}
	raw, err := readBody(resp.Body, c.limit)
	if err != nil {
		return "", "", err
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD"), resp.Header.Get("Content-Type"), nil
}

func (c *crawler) extract(page string) string {
	switch c.format {
	case "HTML":
		return page
	case "Markdown":
		return htmlMarkdown(page)
	}
	return htmlText(page)
}

// A small reading of HTML, enough for what the URL components give: the
// text (BeautifulSoup's get_text: every text node, scripts and styles
// left out, entities decoded), a light Markdown, the title, description
// and language, and the links.
var (
	tagRe      = regexp.MustCompile(`(?s)<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?[^>]*>|</?([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	skippedRe  = regexp.MustCompile(`(?is)<(script|style|template)\b[^>]*>.*?</(script|style|template)\s*>`)
	bodyRe     = regexp.MustCompile(`(?is)<body\b[^>]*>(.*)</body\s*>`)
	titleRe    = regexp.MustCompile(`(?is)<title\b[^>]*>(.*?)</title\s*>`)
	metaRe     = regexp.MustCompile(`(?is)<meta\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	htmlTagRe  = regexp.MustCompile(`(?is)<html\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe     = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	hrefRe     = regexp.MustCompile(`(?i)href=["']([^"'#][^"']*)["']`)
	ignoredExt = []string{".css", ".js", ".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".csv", ".bz2", ".zip",
		".epub", ".webp", ".pdf", ".docx", ".xlsx", ".pptx", ".pptm"}
)

// attrs returns a tag's attributes, names lower-cased, values decoded.
func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// htmlText is the text of a page.
func htmlText(page string) string {
	page = skippedRe.ReplaceAllString(page, "")
	return html.UnescapeString(tagRe.ReplaceAllString(page, ""))
}

// htmlMarkdown is a light Markdown of a page: headings, paragraphs, line
// breaks, list items, links, emphasis and code; other tags are dropped.
func htmlMarkdown(page string) string {
	page = skippedRe.ReplaceAllString(page, "")
	if m := bodyRe.FindStringSubmatch(page); m != nil {
		page = m[1]
	}
	var out strings.Builder
	var href []string
	last := 0
	for _, loc := range tagRe.FindAllStringSubmatchIndex(page, -1) {
		out.WriteString(collapseSpace(html.UnescapeString(page[last:loc[0]])))
		last = loc[1]
		if loc[2] < 0 {
			continue
		}
		tag := strings.ToLower(page[loc[2]:loc[3]])
		closing := page[loc[0]+1] == '/'
		switch tag {
		case "h1", "h2", "h3", "h4", "h5", "h6":
			if !closing {
				out.WriteString("\n\n" + strings.Repeat("#", int(tag[1]-'0')) + " ")
			} else {
				out.WriteString("\n\n")
			}
		case "p", "div", "section", "article", "ul", "ol", "table", "blockquote":
			out.WriteString("\n\n")
		case "br", "tr":
			out.WriteString("\n")
		case "li":
			if !closing {
				out.WriteString("\n- ")
			}
		case "strong", "b":
			out.WriteString("**")
		case "em", "i":
			out.WriteString("*")
		case "code":
			out.WriteString("`")
		case "pre":
			out.WriteString("\n```\n")
		case "a":
			if !closing {
				href = append(href, attrs(page[loc[4]:loc[5]])["href"])
				out.WriteString("[")
			} else if len(href) > 0 {
				out.WriteString("](" + href[len(href)-1] + ")")
				href = href[:len(href)-1]
			}
		}
	}
	out.WriteString(collapseSpace(html.UnescapeString(page[last:])))
	lines := strings.Split(out.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(manyNewlines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

var spaceRun = regexp.MustCompile(`\s+`)

func collapseSpace(s string) string { return spaceRun.ReplaceAllString(s, " ") }

// pageMeta is RecursiveUrlLoader's metadata of a page: source,
// content_type, and title, description and language when the page has a
// title, a description meta tag, an html tag.
func pageMeta(page, u, contentType string) map[string]any {
	row := map[string]any{"url": u, "content_type": contentType, "title": "", "description": "", "language": ""}
	if m := titleRe.FindStringSubmatch(page); m != nil {
		row["title"] = html.UnescapeString(tagRe.ReplaceAllString(m[1], ""))
	}
	for _, m := range metaRe.FindAllStringSubmatch(page, -1) {
		a := attrs(m[1])
		if strings.EqualFold(a["name"], "description") {
			if c, ok := a["content"]; ok {
				row["description"] = c
			} else {
				row["description"] = nil
			}
			break
		}
	}
	if m := htmlTagRe.FindStringSubmatch(page); m != nil {
		if l, ok := attrs(m[1])["lang"]; ok {
			row["language"] = l
		} else {
			row["language"] = nil
		}
	}
	return row
}

// subLinks are the links of a page as LangChain's extract_sub_links finds
// them: href values (no fragments, no files of ignored kinds) made
// absolute, http(s) only, and — unless outside — under base.
func subLinks(page, pageURL, base string, outside bool) []string {
	from, err := url.Parse(pageURL)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range hrefRe.FindAllStringSubmatch(page, -1) {
		raw := html.UnescapeString(m[1])
		lower := strings.ToLower(raw)
		if slices.ContainsFunc(ignoredExt, func(e string) bool { return strings.HasSuffix(lower, e) }) {
			continue
		}
		ref, err := from.Parse(raw)
		if err != nil {
			continue
		}
		ref.Fragment = ""
		ref.RawFragment = ""
		abs := ref.String()
		if _, ok := checkURL(abs); !ok || (!outside && !strings.HasPrefix(abs, base)) || slices.Contains(out, abs) {
			continue
		}
		out = append(out, abs)
	}
	return out
}

// URLLegacy is the URL component of earlier Langflow versions (data.type
// "URL"), which starter flows still carry: each URL fetched once (no
// crawl) and given as Data (text and the page's metadata), as a message
// of the texts joined by the separator (blank lines cleaned in Text
// format), or as a DataFrame. Format "Raw HTML" gives the HTML, "JSON"
// parses each page as a JSON object merged into its Data. Its requests go
// through the same egress client and bounds as URLComponent's.
type URLLegacy struct {
	// MaxResponseBytes bounds one response (DefaultMaxResponseBytes when
	// 0).
	MaxResponseBytes int64
}

// Spec implements engine.Component.
func (URLLegacy) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "URL", Category: "data_source", DisplayName: "URL",
		Description: "Load and retrieve data from specified URLs. Supports output in plain text, raw HTML, or JSON, with options for cleaning and separating multiple outputs.",
		Icon:        "layout-template", BaseClasses: []string{"Data", "DataFrame", "Message"},
		Fields: []engine.FieldSpec{
			messageTextInput("urls", "URLs", "", isList, toolArg),
			dropdownInput("format", "Output Format", "Text", []string{"Text", "Raw HTML", "JSON"},
				info("Output Format. Use 'Text' to extract text from the HTML, 'Raw HTML' for the raw HTML content, or 'JSON' to extract JSON from the HTML.")),
			strInput("separator", "Separator", "\n\n",
				info(`Specify the separator to use between multiple outputs. Default for Text is '\n\n'. Default for Raw HTML is '\n<!-- Separator -->\n'.`)),
			boolInput("clean_extra_whitespace", "Clean Extra Whitespace", true,
				info("Whether to clean excessive blank lines in the text output. Only applies to 'Text' format.")),
		},
		Outputs: []engine.OutputSpec{
			output("data", "Data", "fetch_content", "Data"),
			output("text", "Text", "fetch_content_text"),
			output("dataframe", "DataFrame", "as_dataframe", "DataFrame"),
		},
	}
}

// Build implements engine.Component.
func (c URLLegacy) Build(ctx context.Context, b *engine.Build) error {
	client, err := httpClient(b, "URL")
	if err != nil {
		return err
	}
	var urls []string
	for _, u := range urlList(b, "urls") {
		u, err := ensureURL(u, "http://")
		if err != nil {
			return fmt.Errorf("Invalid URL - %s", strings.TrimPrefix(err.Error(), "Invalid URL: "))
		}
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return errors.New("No valid URLs provided.")
	}
	format := b.Str("format")
	cr := &crawler{client: client, limit: c.MaxResponseBytes, timeout: defaultTimeout}
	if cr.limit <= 0 {
		cr.limit = DefaultMaxResponseBytes
	}
	var docs []*engine.Data
	for _, u := range urls {
		page, ctype, err := cr.get(ctx, u)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		meta := pageMeta(page, u, ctype)
		delete(meta, "url")
		delete(meta, "content_type")
		meta["source"] = u
		if meta["description"] == "" || meta["description"] == nil {
			meta["description"] = "No description found."
		}
		if meta["language"] == "" || meta["language"] == nil {
			meta["language"] = "No language found."
		}
		switch format {
		case "JSON":
			obj, ok := parseJSONObject(page)
			if !ok {
				return errors.New("Invalid JSON content from URL - " + u)
			}
			text, err := dataJSON(obj)
			if err != nil {
				return errors.New("Invalid JSON content from " + u)
			}
			d := map[string]any{"text": text}
			for k, v := range obj {
				d[k] = v
			}
			for k, v := range meta {
				d[k] = v
			}
			docs = append(docs, engine.NewData(d))
		case "Raw HTML":
			meta["text"] = page
			docs = append(docs, engine.NewData(meta))
		default:
			meta["text"] = htmlText(page)
			docs = append(docs, engine.NewData(meta))
		}
	}
	if b.Wants("data") {
		list := make([]engine.Value, len(docs))
		for i, d := range docs {
			list[i] = d
		}
		b.Set("data", list)
	}
	if b.Wants("text") {
		texts := make([]string, len(docs))
		for i, d := range docs {
			texts[i] = d.Text()
			if format == "Text" && b.Bool("clean_extra_whitespace") {
				texts[i] = manyNewlines.ReplaceAllString(texts[i], "\n\n")
			}
		}
		sep := b.Str("separator")
		if format == "JSON" {
			sep = "\n"
		}
		setText(b, "text", strings.Join(texts, sep))
	}
	if b.Wants("dataframe") {
		rows := make([]map[string]any, len(docs))
		for i, d := range docs {
			rows[i] = d.Map
		}
		b.Set("dataframe", engine.NewDataFrame(rows))
	}
	return nil
}

// parseJSONObject parses s as one JSON object (numbers kept as written).
func parseJSONObject(s string) (map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, false
	}
	return obj, true
}

package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// BindJSON decodes the JSON request body into dst, a pointer, and checks
// dst's `binding` rules (go-playground/validator, as gin uses them) and
// the default size bounds (limits.go). On failure it answers like FastAPI
// through Fail — 422 with pydantic's error types and locations
// (json_invalid, missing, int_parsing, string_too_long, string_unicode,
// enum …), 413 for an oversized body — and returns false.
//
// Fields are named by their json tags. Note that `binding:"required"`
// rejects zero values, as in gin: use a pointer for a required field whose
// zero value is valid (false, 0).
func BindJSON(c *gin.Context, dst any) bool {
	body, err := readBody(c.Request.Body, c.Request.ContentLength)
	if err == nil {
		err = decodeJSON(body, dst, serverOf(c).validate)
	}
	if err != nil {
		Fail(c, err)
		return false
	}
	return true
}

// readBody reads a body whole. A declared length (which limitBody held
// to the route's limit) sizes the buffer once: the body costs its size,
// not io.ReadAll's doubling growth and its garbage.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	var body []byte
	var err error
	switch {
	case r == nil || declared == 0:
		return nil, nil
	case declared > 0:
		body = make([]byte, declared)
		_, err = io.ReadFull(r, body)
	default:
		body, err = io.ReadAll(r)
	}
	if err != nil {
		if _, ok := errors.AsType[*BodyError](err); !ok {
			err = &BodyError{Err: err}
		}
		return nil, err
	}
	return body, nil
}

// BindQuery fills dst, a pointer to a struct, from the query string. A
// field takes the parameter named by its `form` tag ("name" or
// "name,default=value"); pointers stay nil when the parameter is absent,
// slices take every repetition, scalars the last. Parse failures and
// `binding` rules answer 422 at ["query", name] through Fail.
func BindQuery(c *gin.Context, dst any) bool {
	err := undeclaredPlace(c, dst)
	if err == nil {
		err = decodeQuery(c.Request.URL.Query(), dst, serverOf(c).validate)
	}
	if err != nil {
		Fail(c, err)
		return false
	}
	return true
}

// undeclaredPlace refuses (a 500: the handler's mistake) to bind a query
// parameter named like a place of a tenant (PlaceLike) that the operation
// does not declare with its Place: the Authorizer checks the declared
// ones only, so the handler would read a place nobody checked.
func undeclaredPlace(c *gin.Context, dst any) error {
	rt, ok := routeOf(c)
	t := reflect.TypeOf(dst)
	if !ok || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil // outside a route, or not a struct (decodeValues says so)
	}
	for _, f := range formFields(t.Elem()) {
		name := formName(f)
		if PlaceLike.MatchString(name) && !slices.ContainsFunc(rt.params, func(p Param) bool {
			return p.In == "query" && p.Name == name && p.Place != ""
		}) {
			return fmt.Errorf("bind query: %s %s reads %q, a place it does not declare (Param.Place)", rt.op.Method, rt.op.Path, name)
		}
	}
	return nil
}

// formMemory is how much of a multipart form's files BindForm keeps in
// memory; the rest goes to temporary files (which net/http removes).
const formMemory = 64 << 10

// BindForm fills dst, like BindQuery, from a form-encoded request body
// (application/x-www-form-urlencoded or multipart/form-data), as FastAPI's
// Form parameters (OAuth2PasswordRequestForm) read it; errors are located at
// ["body", name].
func BindForm(c *gin.Context, dst any) bool {
	// ParseMultipartForm would hide why a urlencoded body failed to arrive
	// (it answers ErrNotMultipart); its syntax errors stay ignored, as
	// there (what parses is bound, the rest is missing).
	if err := c.Request.ParseForm(); err != nil {
		if _, ok := errors.AsType[*BodyError](err); ok {
			Fail(c, err)
			return false
		}
	}
	if err := c.Request.ParseMultipartForm(formMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			Fail(c, err)
			return false
		}
		if be, ok := errors.AsType[*BodyError](err); ok && be.Timeout() {
			Fail(c, be)
			return false
		}
		Fail(c, &ValidationError{Items: []ErrorItem{{Type: "value_error", Loc: []any{"body"}, Msg: "Value error, malformed form body"}}})
		return false
	}
	if err := decodeValues(c.Request.PostForm, dst, serverOf(c).validate, "body"); err != nil {
		Fail(c, err)
		return false
	}
	return true
}

// PathInt parses the path parameter name as an integer id; a malformed one
// is answered with 422 int_parsing at ["path", name] and ok false.
func PathInt(c *gin.Context, name string) (id int64, ok bool) {
	raw := c.Param(name)
	it := paramError(raw)
	if it == nil {
		it = intError(reflect.TypeFor[int64](), raw, raw)
	}
	if it != nil {
		Fail(c, &ValidationError{Items: []ErrorItem{at(*it, "path", name)}})
		return 0, false
	}
	id, _ = strconv.ParseInt(raw, 10, 64)
	return id, true
}

// PathUUID parses the path parameter name as a UUID; a malformed one is
// answered with 422 uuid_parsing at ["path", name] and ok false.
func PathUUID(c *gin.Context, name string) (id uuid.UUID, ok bool) {
	raw := c.Param(name)
	if it := paramError(raw); it != nil {
		Fail(c, &ValidationError{Items: []ErrorItem{at(*it, "path", name)}})
		return uuid.Nil, false
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		Fail(c, &ValidationError{Items: []ErrorItem{at(mismatch(reflect.TypeFor[uuid.UUID](), raw, err), "path", name)}})
		return uuid.Nil, false
	}
	return id, true
}

// ParsePosition reads an event position a client sent (X-Min-Position, a
// cursor): 422 located at loc when it is malformed (value_error) or
// beyond any position of the log (less_than_equal: PostgreSQL keeps them
// as bigint, so larger ones would wrap around in a query).
func ParsePosition(raw string, loc ...any) (eventstore.Position, error) {
	pos, err := eventstore.ParsePosition(raw)
	if err != nil {
		return pos, &ValidationError{Items: []ErrorItem{at(ErrorItem{Type: "value_error", Msg: "Value error, " + err.Error(), Input: raw}, loc...)}}
	}
	if pos.Commit > math.MaxInt64 || pos.Prepare > math.MaxInt64 {
		return pos, &ValidationError{Items: []ErrorItem{at(ErrorItem{Type: "less_than_equal", Input: raw,
			Msg: fmt.Sprintf("Input should be less than or equal to %d", int64(math.MaxInt64)),
			Ctx: map[string]any{"le": json.Number(strconv.FormatInt(math.MaxInt64, 10))}}, loc...)}}
	}
	return pos, nil
}

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.SetTagName("binding")
	// maxbody marks fields only the body limit bounds (limits.go); as a
	// rule it always passes. Registering a new name cannot fail.
	_ = v.RegisterValidation(ruleMaxBody, func(validator.FieldLevel) bool { return true })
	return v
}

// maxEchoedInput bounds the JSON a type error echoes as its input: a
// bigger list or object where a scalar belongs is answered without it.
const maxEchoedInput = 64 << 10

// decodeJSON decodes body into dst and checks it. The body is decoded
// once, into dst; only when that fails is it walked again (typeErrors),
// value by value, to locate every mismatch as pydantic does.
func decodeJSON(body []byte, dst any, v *validator.Validate) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &ValidationError{Items: []ErrorItem{{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}}}
	}
	if err := CheckJSON(body, "body"); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return syntaxError(body, se, []any{"body"})
		}
		if _, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
			return fmt.Errorf("bind JSON: %w", err)
		}
		items := typeErrors(reflect.TypeOf(dst).Elem(), body, []any{"body"})
		if len(items) == 0 {
			items = []ErrorItem{{Type: "value_error", Loc: []any{"body"}, Msg: "Value error, " + err.Error()}}
		}
		return &ValidationError{Items: items}
	}
	return checkDecoded(v, dst, []any{"body"}, jsonFields, jsonName)
}

// Validate checks dst, decoded from JSON by a handler itself (a flow of
// an uploaded file), as BindJSON does: its binding rules and the default
// size bounds, errors located under root.
func (s *Server) Validate(dst any, root ...any) error {
	return checkDecoded(s.validate, dst, root, jsonFields, jsonName)
}

// checkDecoded runs dst's binding rules and the default bounds.
func checkDecoded(v *validator.Validate, dst any, root []any, fields func(reflect.Type) []reflect.StructField,
	name func(reflect.StructField) string) error {
	var items []ErrorItem
	err := validateStruct(v, dst, root, name)
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		items = ve.Items
	} else if err != nil {
		return err
	}
	items = append(items, limitErrors(reflect.ValueOf(dst), "", root, fields, name)...)
	if len(items) > 0 {
		return &ValidationError{Items: items}
	}
	return nil
}

// syntaxError is json_invalid at the offset of se in body.
func syntaxError(body []byte, se *json.SyntaxError, root []any) error {
	msg := se.Error()
	switch {
	case strings.HasPrefix(msg, "unexpected end of JSON input"):
		return jsonInvalid(root, len(body), "unexpected EOF")
	case strings.Contains(msg, "after top-level value"):
		return jsonInvalid(root, int(max(se.Offset-1, 0)), "extra data after the JSON value")
	}
	return jsonInvalid(root, int(max(se.Offset-1, 0)), msg) // Offset counts the bad byte
}

func jsonInvalid(root []any, offset int, reason string) error {
	return &ValidationError{Items: []ErrorItem{{
		Type: "json_invalid", Loc: append(append([]any{}, root...), offset), Msg: "JSON decode error",
		Input: map[string]any{}, Ctx: map[string]any{"error": reason},
	}}}
}

// echo is raw decoded generically (numbers as json.Number), as an error's
// input; nil for null and for values over maxEchoedInput.
func echo(raw []byte) any {
	if len(raw) > maxEchoedInput {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return finiteNumbers(v)
}

// finiteNumbers turns the numbers of v that no float64 holds (1e309) into
// strings: echoed as numbers, they would make the answer itself
// unreadable to most JSON parsers.
func finiteNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		return number(string(v))
	case []any:
		for i := range v {
			v[i] = finiteNumbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = finiteNumbers(v[k])
		}
	}
	return v
}

// number is raw as a JSON number when a float64 holds it, else as text.
func number(raw string) any {
	if _, err := strconv.ParseFloat(raw, 64); err != nil {
		return raw
	}
	return json.Number(raw)
}

// typeErrors lists where raw, a valid JSON value, does not fit t the way
// encoding/json decodes it. encoding/json reports only its first error,
// and without list indices or the field of a failed UnmarshalText; this
// walk reports them all, located like pydantic. It decodes one level at a
// time and only as deep as t goes, so a large body is never built as maps.
func typeErrors(t reflect.Type, raw []byte, loc []any) []ErrorItem {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" { // null leaves the zero value
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	here := func(cause error) []ErrorItem { return []ErrorItem{at(mismatch(t, echo(raw), cause), loc...)} }
	switch pt := reflect.PointerTo(t); {
	case pt.Implements(reflect.TypeFor[json.Unmarshaler]()):
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return here(err)
		}
		return nil
	case pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return here(nil)
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return []ErrorItem{at(mismatch(t, s, err), loc...)}
		}
		return nil
	}
	isNumber := raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'
	check := func(ok bool) []ErrorItem {
		if !ok {
			return here(nil)
		}
		return nil
	}
	var items []ErrorItem
	switch t.Kind() {
	case reflect.String:
		return check(raw[0] == '"')
	case reflect.Bool:
		return check(string(raw) == "true" || string(raw) == "false")
	case reflect.Float32, reflect.Float64:
		if !isNumber {
			return here(nil)
		}
		if _, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil {
			return []ErrorItem{at(ErrorItem{Type: "finite_number", Msg: "Input should be a finite number", Input: number(string(raw))}, loc...)}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !isNumber {
			return here(nil)
		}
		if it := intError(t, string(raw), number(string(raw))); it != nil {
			return []ErrorItem{at(*it, loc...)}
		}
	case reflect.Struct:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return here(nil)
		}
		fields := jsonFields(t)
		for _, key := range sortedKeys(m) {
			i := slices.IndexFunc(fields, func(f reflect.StructField) bool { return jsonName(f) == key })
			if i < 0 {
				i = slices.IndexFunc(fields, func(f reflect.StructField) bool { return strings.EqualFold(jsonName(f), key) })
			}
			if i >= 0 {
				items = append(items, typeErrors(fields[i].Type, m[key], append(slices.Clip(loc), key))...)
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return here(nil)
		}
		for _, key := range sortedKeys(m) {
			items = append(items, typeErrors(t.Elem(), m[key], append(slices.Clip(loc), key))...)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // []byte is a base64 string
			return check(raw[0] == '"')
		}
		var list []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return here(nil)
		}
		for i, el := range list {
			items = append(items, typeErrors(t.Elem(), el, append(slices.Clip(loc), i))...)
		}
	}
	return items
}

// mismatch is pydantic's error for input that is not a t. cause is the
// parse error of a string input, if any.
func mismatch(t reflect.Type, input any, cause error) ErrorItem {
	_, isString := input.(string)
	because := func(prefix string) string {
		if cause == nil {
			return prefix
		}
		return prefix + ", " + cause.Error()
	}
	it := ErrorItem{Input: input}
	switch {
	case t == reflect.TypeFor[uuid.UUID]() && isString:
		it.Type, it.Msg = "uuid_parsing", because("Input should be a valid UUID")
	case t == reflect.TypeFor[uuid.UUID]():
		it.Type, it.Msg = "uuid_type", "UUID input should be a string, bytes or UUID object"
	case t == reflect.TypeFor[time.Time]() && isString:
		it.Type, it.Msg = "datetime_parsing", because("Input should be a valid datetime")
	case t == reflect.TypeFor[time.Time]():
		it.Type, it.Msg = "datetime_type", "Input should be a valid datetime"
	case cause != nil:
		it.Type, it.Msg = "value_error", "Value error, "+cause.Error()
	default:
		switch t.Kind() {
		case reflect.Bool:
			it.Type, it.Msg = "bool_type", "Input should be a valid boolean"
			if isString {
				it.Type, it.Msg = "bool_parsing", "Input should be a valid boolean, unable to interpret input"
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			it.Type, it.Msg = "int_type", "Input should be a valid integer"
			if isString {
				it.Type, it.Msg = "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
			}
		case reflect.Float32, reflect.Float64:
			it.Type, it.Msg = "float_type", "Input should be a valid number"
			if isString {
				it.Type, it.Msg = "float_parsing", "Input should be a valid number, unable to parse string as a number"
			}
		case reflect.Struct:
			it.Type, it.Msg = "model_attributes_type", "Input should be a valid dictionary or object to extract fields from"
		case reflect.Map:
			it.Type, it.Msg = "dict_type", "Input should be a valid dictionary"
		case reflect.Slice, reflect.Array:
			it.Type, it.Msg = "list_type", "Input should be a valid list"
		default:
			it.Type, it.Msg = "string_type", "Input should be a valid string"
		}
	}
	return it
}

// intError checks that s is an integer that fits t (an integer kind); nil
// if it is.
func intError(t reflect.Type, s string, input any) *ErrorItem {
	signed := t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64
	if signed {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && !reflect.Zero(t).OverflowInt(n) {
			return nil
		}
	} else if n, err := strconv.ParseUint(s, 10, 64); err == nil && !reflect.Zero(t).OverflowUint(n) {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	_, isString := input.(string)
	switch {
	case err != nil || isString && f != math.Trunc(f):
		it := mismatch(t, input, nil)
		return &it
	case f != math.Trunc(f):
		return &ErrorItem{Type: "int_from_float", Msg: "Input should be a valid integer, got a number with a fractional part", Input: input}
	}
	bits := t.Bits()
	lo, hi := "0", strconv.FormatUint(math.MaxUint64>>(64-bits), 10)
	if signed {
		lo, hi = strconv.FormatInt(math.MinInt64>>(64-bits), 10), strconv.FormatInt(math.MaxInt64>>(64-bits), 10)
	}
	if f < 0 {
		return &ErrorItem{Type: "greater_than_equal", Msg: "Input should be greater than or equal to " + lo,
			Input: input, Ctx: map[string]any{"ge": json.Number(lo)}}
	}
	return &ErrorItem{Type: "less_than_equal", Msg: "Input should be less than or equal to " + hi,
		Input: input, Ctx: map[string]any{"le": json.Number(hi)}}
}

// at returns it located at loc.
func at(it ErrorItem, loc ...any) ErrorItem {
	it.Loc = slices.Clone(loc)
	return it
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonFields lists the fields encoding/json decodes into, promoted fields
// of embedded structs included.
func jsonFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Tag.Get("json") == "-" || flattened(f) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// flattened reports an embedded struct whose fields encoding/json promotes.
func flattened(f reflect.StructField) bool {
	t := f.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return f.Anonymous && f.Tag.Get("json") == "" && t.Kind() == reflect.Struct
}

func jsonName(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
		return name
	}
	return f.Name
}

func formName(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("form"), ","); name != "" {
		return name
	}
	return f.Name
}

func decodeQuery(q url.Values, dst any, v *validator.Validate) error {
	return decodeValues(q, dst, v, "query")
}

// decodeValues fills dst from form-encoded values; root is the first part
// of error locations ("query" or "body").
func decodeValues(q url.Values, dst any, v *validator.Validate, root string) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("bind query: need a pointer to a struct, not %T", dst)
	}
	rv = rv.Elem()
	var items []ErrorItem
	for _, f := range formFields(rv.Type()) {
		tag := f.Tag.Get("form")
		name := formName(f)
		values, present := q[name]
		if !present {
			_, opts, _ := strings.Cut(tag, ",")
			def, ok := strings.CutPrefix(opts, "default=")
			if !ok {
				continue
			}
			values = []string{def}
		}
		if i := slices.IndexFunc(values, func(s string) bool { return textError(s) != nil }); i >= 0 {
			items = append(items, at(*textError(values[i]), root, name))
			continue
		}
		if it := setQueryField(rv.FieldByIndex(f.Index), values); it != nil {
			items = append(items, at(*it, root, name))
		}
	}
	if len(items) > 0 {
		return &ValidationError{Items: items}
	}
	return checkDecoded(v, dst, []any{root}, formFields, formName)
}

// formFields lists the fields decodeValues fills.
func formFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		if tag, ok := f.Tag.Lookup("form"); ok && tag != "-" && f.IsExported() {
			out = append(out, f)
		}
	}
	return out
}

func setQueryField(fv reflect.Value, values []string) *ErrorItem {
	if fv.Kind() == reflect.Slice && !reflect.PointerTo(fv.Type()).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		list := reflect.MakeSlice(fv.Type(), len(values), len(values))
		for i, raw := range values {
			if it := setScalar(list.Index(i), raw); it != nil {
				return it
			}
		}
		fv.Set(list)
		return nil
	}
	return setScalar(fv, values[len(values)-1])
}

func setScalar(fv reflect.Value, raw string) *ErrorItem {
	t := fv.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if it := setScalar(p.Elem(), raw); it != nil {
			return it
		}
		fv.Set(p)
		return nil
	}
	if tu, ok := fv.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := tu.UnmarshalText([]byte(raw)); err != nil {
			it := mismatch(t, raw, err)
			return &it
		}
		return nil
	}
	fail := func() *ErrorItem {
		it := mismatch(t, raw, nil)
		return &it
	}
	switch t.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		switch strings.ToLower(raw) {
		case "1", "true", "t", "yes", "y", "on":
			fv.SetBool(true)
		case "0", "false", "f", "no", "n", "off":
			fv.SetBool(false)
		default:
			return fail()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || fv.OverflowInt(n) {
			return intError(t, raw, raw)
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || fv.OverflowUint(n) {
			return intError(t, raw, raw)
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(raw, t.Bits())
		if err != nil {
			return fail()
		}
		fv.SetFloat(f)
	default:
		return &ErrorItem{Type: "value_error", Msg: "Value error, unsupported query parameter type " + t.String(), Input: raw}
	}
	return nil
}

// validateStruct runs dst's `binding` rules and translates the failures
// into pydantic's terms, located under root with fields named by name.
func validateStruct(v *validator.Validate, dst any, root []any, name func(reflect.StructField) string) error {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	err := v.Struct(dst)
	fes, ok := errors.AsType[validator.ValidationErrors](err)
	if !ok {
		if err != nil {
			return fmt.Errorf("validate %v: %w", root, err)
		}
		return nil
	}
	items := make([]ErrorItem, len(fes))
	for i, fe := range fes {
		items[i] = at(ruleError(fe), fieldLoc(t, fe.StructNamespace(), root, name)...)
	}
	return &ValidationError{Items: items}
}

// fieldLoc turns validator's "Type.Field[0].Inner" into pydantic's
// [root, "field", 0, "inner"], skipping flattened embedded structs.
func fieldLoc(t reflect.Type, namespace string, root []any, name func(reflect.StructField) string) []any {
	loc := slices.Clone(root)
	rest := namespace
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if first, after, ok := strings.Cut(namespace, "."); ok && first == t.Name() {
		rest = after // drop the root type's name (an anonymous struct has none)
	}
	for seg := range strings.SplitSeq(rest, ".") {
		field, index, _ := strings.Cut(seg, "[")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		f, ok := reflect.StructField{}, false
		if t.Kind() == reflect.Struct {
			f, ok = t.FieldByName(field)
		}
		switch {
		case !ok:
			loc = append(loc, field)
		case flattened(f):
			t = f.Type
		default:
			loc = append(loc, name(f))
			t = f.Type
		}
		for index != "" {
			key, more, _ := strings.Cut(index, "]")
			index = strings.TrimPrefix(more, "[")
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if n, err := strconv.Atoi(key); err == nil && t.Kind() != reflect.Map {
				loc = append(loc, n)
			} else {
				loc = append(loc, key)
			}
			if k := t.Kind(); k == reflect.Slice || k == reflect.Array || k == reflect.Map {
				t = t.Elem()
			}
		}
	}
	return loc
}

// ruleError translates a failed validator rule into pydantic's error.
func ruleError(fe validator.FieldError) ErrorItem {
	p := fe.Param()
	it := ErrorItem{Input: fe.Value()}
	kind := fe.Kind()
	text := kind == reflect.String
	list := kind == reflect.Slice || kind == reflect.Array || kind == reflect.Map
	length := func() int {
		if s, ok := fe.Value().(string); ok {
			return utf8.RuneCountInString(s)
		}
		if rv := reflect.ValueOf(fe.Value()); list && rv.IsValid() {
			return rv.Len()
		}
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		n = 0 // the rule's parameter is not a count; n is not read then
	}
	fieldType := "List"
	if kind == reflect.Map {
		fieldType = "Dictionary"
	}
	tooShort := func() { it = sizeError(text, fieldType, "short", n, length(), fe.Value()) }
	tooLong := func() { it = sizeError(text, fieldType, "long", n, length(), fe.Value()) }
	bound := func(typ, words, key string) {
		it.Type, it.Msg, it.Ctx = typ, "Input should be "+words+" "+p, map[string]any{key: json.Number(p)}
		if _, err := strconv.ParseFloat(p, 64); err != nil {
			it.Ctx = map[string]any{key: p}
		}
	}
	switch tag := fe.Tag(); {
	case fe.Type() == rawMessageType && (tag == "max" || tag == "lte"):
		raw, _ := fe.Value().(json.RawMessage)
		it = jsonTooLong(len(raw), n)
	case strings.HasPrefix(tag, "required"):
		it.Type, it.Msg, it.Input = "missing", "Field required", nil
	case (tag == "min" || tag == "gte") && (text || list):
		tooShort()
	case (tag == "max" || tag == "lte") && (text || list):
		tooLong()
	case tag == "len" && (text || list) && length() < n:
		tooShort()
	case tag == "len" && (text || list):
		tooLong()
	case tag == "min" || tag == "gte":
		bound("greater_than_equal", "greater than or equal to", "ge")
	case tag == "max" || tag == "lte":
		bound("less_than_equal", "less than or equal to", "le")
	case tag == "gt":
		bound("greater_than", "greater than", "gt")
	case tag == "lt":
		bound("less_than", "less than", "lt")
	case tag == "oneof":
		options := strings.Fields(p)
		for i, o := range options {
			options[i] = "'" + o + "'"
		}
		expected := options[len(options)-1]
		if len(options) > 1 {
			expected = strings.Join(options[:len(options)-1], ", ") + " or " + expected
		}
		it.Type, it.Msg, it.Ctx = "enum", "Input should be "+expected, map[string]any{"expected": expected}
	case strings.HasPrefix(tag, "uuid"):
		it.Type, it.Msg = "uuid_parsing", "Input should be a valid UUID"
	case tag == "email":
		it.Type, it.Msg = "value_error", "value is not a valid email address"
	case tag == "url" || tag == "http_url":
		it.Type, it.Msg = "url_parsing", "Input should be a valid URL"
	default:
		it.Type, it.Msg = "value_error", fmt.Sprintf("Value error, the value breaks the %q rule", tag)
	}
	return it
}

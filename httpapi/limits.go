package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Every string, list and free-form JSON value the binder decodes has a
// maximum size: its field's own rule (`binding:"max=…"`, the spec's
// limits), else these defaults. A field tagged `binding:"maxbody"` (flow
// graphs, message texts) is bounded by the route's body limit alone. The
// defaults apply inside lists, maps and free-form objects too.
const (
	// DefaultMaxStringLength is the longest string, in characters.
	DefaultMaxStringLength = 10_000
	// DefaultMaxItems is the longest list (and the most members of a map
	// or free-form object).
	DefaultMaxItems = 1_000
	// DefaultMaxJSONBytes is the largest free-form JSON value
	// (json.RawMessage: optins, auth settings …), in bytes.
	DefaultMaxJSONBytes = 64 << 10
)

// ruleMaxBody is the binding rule of fields that only the body limit
// bounds; the validator knows it as a rule that always passes.
const ruleMaxBody = "maxbody"

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// fieldRules splits a binding tag into the rules of the field itself and
// those of its elements (after "dive").
func fieldRules(tag string) (own []string, elems string) {
	if tag == "" {
		return nil, ""
	}
	rules := strings.Split(tag, ",")
	if i := slices.Index(rules, "dive"); i >= 0 {
		return rules[:i], strings.Join(rules[i+1:], ",")
	}
	return rules, ""
}

// bounded reports whether rules set the field's size themselves.
func bounded(rules []string) bool {
	return slices.ContainsFunc(rules, func(r string) bool {
		key, _, _ := strings.Cut(r, "=")
		return key == "max" || key == "len" || key == "lte" || key == ruleMaxBody
	})
}

// limitErrors walks v and reports every value over the defaults whose
// field does not set its own bound; tag is v's binding tag, fields the
// struct fields the decoder fills (with name naming them in locations).
func limitErrors(v reflect.Value, tag string, loc []any, fields func(reflect.Type) []reflect.StructField,
	name func(reflect.StructField) string) []ErrorItem {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	own, elems := fieldRules(tag)
	free := !bounded(own)
	here := func(it ErrorItem) []ErrorItem { return []ErrorItem{at(it, loc...)} }
	t := v.Type()
	switch {
	case v.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8: // a UUID
		return nil
	case t == rawMessageType || v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		if free && v.Len() > DefaultMaxJSONBytes {
			return here(jsonTooLong(v.Len(), DefaultMaxJSONBytes))
		}
		return nil
	}
	var items []ErrorItem
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); free && len(s) > DefaultMaxStringLength && utf8.RuneCountInString(s) > DefaultMaxStringLength {
			return here(*stringTooLong(s, DefaultMaxStringLength))
		}
	case reflect.Struct:
		for _, f := range fields(t) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil { // behind a nil embedded pointer: nothing decoded there
				continue
			}
			items = append(items, limitErrors(fv, f.Tag.Get("binding"), append(slices.Clip(loc), name(f)), fields, name)...)
		}
	case reflect.Slice, reflect.Array:
		if free && v.Kind() == reflect.Slice && v.Len() > DefaultMaxItems {
			return here(sizeError(false, "List", "long", DefaultMaxItems, v.Len(), nil))
		}
		for i := range v.Len() {
			items = append(items, limitErrors(v.Index(i), elems, append(slices.Clip(loc), i), fields, name)...)
		}
	case reflect.Map:
		if free && v.Len() > DefaultMaxItems {
			return here(sizeError(false, "Dictionary", "long", DefaultMaxItems, v.Len(), nil))
		}
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			where := append(slices.Clip(loc), key)
			if len(key) > DefaultMaxStringLength && utf8.RuneCountInString(key) > DefaultMaxStringLength {
				items = append(items, at(*stringTooLong(key, DefaultMaxStringLength), where...))
			}
			items = append(items, limitErrors(iter.Value(), elems, where, fields, name)...)
		}
		sortByLoc(items)
	}
	return items
}

// sortByLoc orders items by location, for answers that do not depend on
// map order.
func sortByLoc(items []ErrorItem) {
	slices.SortStableFunc(items, func(a, b ErrorItem) int { return strings.Compare(fmt.Sprint(a.Loc), fmt.Sprint(b.Loc)) })
}

// sizeError is pydantic's error of a string (text) or a list (or a
// dictionary: fieldType) of length that is too "long" or too "short"
// (side) for limit.
func sizeError(text bool, fieldType, side string, limit, length int, input any) ErrorItem {
	at, key, unit := "most", "max_length", "item"
	if side == "short" {
		at, key = "least", "min_length"
	}
	if text {
		unit = "character"
	}
	if limit != 1 {
		unit += "s"
	}
	if text {
		return ErrorItem{Type: "string_too_" + side, Msg: fmt.Sprintf("String should have at %s %d %s", at, limit, unit),
			Input: input, Ctx: map[string]any{key: limit}}
	}
	return ErrorItem{Type: "too_" + side, Input: input,
		Msg: fmt.Sprintf("%s should have at %s %d %s after validation, not %d", fieldType, at, limit, unit, length),
		Ctx: map[string]any{"field_type": fieldType, key: limit, "actual_length": length}}
}

// TooManyItems is the 422 too_long of a list of n items over limit at
// loc, for lists a handler counts itself (the flows of an import).
func TooManyItems(limit, n int, loc ...any) *ValidationError {
	return &ValidationError{Items: []ErrorItem{at(sizeError(false, "List", "long", limit, n, nil), loc...)}}
}

// stringTooLong is string_too_long for s over max characters.
func stringTooLong(s string, max int) *ErrorItem {
	it := sizeError(true, "", "long", max, 0, s)
	return &it
}

// jsonTooLong is too_long for a free-form JSON value of n bytes over max
// (not echoed back).
func jsonTooLong(n, max int) ErrorItem {
	return ErrorItem{Type: "too_long", Msg: fmt.Sprintf("JSON value should have at most %d bytes, not %d", max, n),
		Ctx: map[string]any{"field_type": "JSON", "max_length": max, "actual_length": n}}
}

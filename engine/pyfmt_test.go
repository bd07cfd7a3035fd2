package engine

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2: "-2.0", 0.1: "0.1", 0.0123: "0.0123", 1e-5: "1e-05", 1.5e20: "1.5e+20",
		123456789012345.0: "123456789012345.0", 1e16: "1e+16", 0.0001: "0.0001", 2.5e-7: "2.5e-07",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 1e100: "1e+100",
	} {
		assert.Equal(t, want, PyFloat(f), "%v", f)
	}
	assert.Equal(t, "nan", PyFloat(math.NaN()))
}

func TestPyStr(t *testing.T) {
	assert.Equal(t, "['a', 'b']", PyStr([]any{"a", "b"}))
	assert.Equal(t, `{'k': None, 'n': 1.5, 'ok': True}`, PyStr(map[string]any{"k": nil, "n": 1.5, "ok": true}))
	assert.Equal(t, `["it's"]`, PyStr([]any{"it's"}))
	assert.Equal(t, "None", PyStr(nil))
	assert.Equal(t, "hi", PyStr("hi"))
}

// A Go object is shown as Python shows an object without __str__, not
// with its fields (a component's object can hold a secret).
func TestPyStr_GoObjects(t *testing.T) {
	type holder struct{ Key string }
	secret := &holder{Key: "sk-secret"}
	assert.Equal(t, "<engine.holder object>", PyStr(secret))
	assert.Equal(t, "<engine.holder object>", PyStr(*secret))
	assert.Equal(t, `{"h": "<engine.holder object>", "n": null}`, string(PyDumps(map[string]any{"h": secret, "n": (*holder)(nil)})))
	assert.Equal(t, "None", PyStr((*holder)(nil)))
	assert.Equal(t, "boom", PyStr(errors.New("boom")))
	assert.Equal(t, "1.5s", PyStr(1500*time.Millisecond))
}

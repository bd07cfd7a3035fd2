package engine

import (
	"math"
	"strconv"
	"strings"
)

// PyFloat formats f as Python's repr() of a float: the shortest digits
// that read back as f, fixed notation for exponents from -4 to 15 (with
// ".0" for integral values), scientific notation otherwise ("1e-05",
// "1.5e+20"), and inf, -inf, nan.
func PyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expText, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		return mant + "e" + expText[:1] + pad2(strings.TrimLeft(expText[1:], "0"))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func pad2(s string) string {
	for len(s) < 2 {
		s = "0" + s
	}
	return s
}

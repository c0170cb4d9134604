package luajson

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// FuzzDecode checks that decode never panics, accepts what encoding/json
// accepts (within MaxDepth and the float64 range), and that encoding what
// it decoded gives a text that decodes and encodes back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, `0`, `-1.5e3`, `"a\u00e9\ud83d\ude00"`, `[]`, `{}`,
		`[1, null, {"a": [true, false, {}]}]`, `{"1": 1, "k": "v", "k": 2}`,
		`9007199254740993`, `1e400`, `[1,]`, `{"a" 1}`, `"\ud800"`, "\"\xff\"", `[[[[]]]]`,
		`"\u2028<&>"`, ` { "x" : [ 1 , 2 ] } `,
	} {
		f.Add(s)
	}
	L := lua.NewState()
	defer L.Close()
	Open(L)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Decode(L, s)
		if err != nil {
			if utf8.ValidString(s) && json.Valid([]byte(s)) && !strings.Contains(err.Error(), "nesting deeper") &&
				!strings.Contains(err.Error(), "float64 range") {
				t.Fatalf("Decode(%q) = %v, but encoding/json accepts it", s, err)
			}
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("Decode(%q) succeeded, but encoding/json rejects it", s)
		}
		out, err := Encode(L, v)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) = %v", s, err)
		}
		v2, err := Decode(L, out)
		if err != nil {
			t.Fatalf("Decode(%q) (the re-encoding of %q) = %v", out, s, err)
		}
		out2, err := Encode(L, v2)
		if err != nil || out2 != out {
			t.Fatalf("round trip of %q: %q then %q (%v)", s, out, out2, err)
		}
	})
}

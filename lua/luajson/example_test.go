package luajson_test

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/luajson"
)

// A host installs the module with Open; scripts then encode and decode with
// errors as values.
func Example() {
	L := lua.NewState()
	defer L.Close()
	luajson.Open(L)
	err := L.DoString(`
		local msg = assert(json.decode('{"type": "join", "room": "go", "tags": [], "extra": null}'))
		print(msg.type, msg.room, #msg.tags, msg.extra == json.null)
		print(json.encode({type = "say", text = "hi", ids = {1, 2}, meta = json.object()}))
		print(json.encode({1, 2, [4] = 4}))
		print(json.decode("[1,"))
	`)
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// join	go	0	true
	// {"ids":[1,2],"meta":{},"text":"hi","type":"say"}
	// nil	json.encode: array with holes or keys other than 1..n ([1 2 4]); use json.null for missing elements, or json.object to make an object
	// nil	json.decode: unexpected end of the text
}

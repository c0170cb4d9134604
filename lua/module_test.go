package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// newPlainState returns a plain gopher-lua state (no scheduler) with the
// module open.
func newPlainState(t *testing.T) *glua.LState {
	t.Helper()
	L := glua.NewState()
	t.Cleanup(L.Close)
	Open(L)
	return L
}

func TestConstantsMatchSpec(t *testing.T) {
	L := newPlainState(t)
	require.NoError(t, L.DoString(`
		assert(websocket.TYPE_TEXT == "text")
		assert(websocket.TYPE_BINARY == "binary")
		assert(websocket.TYPE_PING == "ping")
		assert(websocket.TYPE_PONG == "pong")
		assert(websocket.TYPE_CLOSE == "close")
		local want = {
			NORMAL = 1000, GOING_AWAY = 1001, PROTOCOL_ERROR = 1002, UNSUPPORTED_DATA = 1003,
			RESERVED = 1004, NO_STATUS = 1005, ABNORMAL_CLOSURE = 1006, INVALID_PAYLOAD = 1007,
			POLICY_VIOLATION = 1008, MESSAGE_TOO_BIG = 1009, MANDATORY_EXTENSION = 1010,
			INTERNAL_ERROR = 1011, SERVICE_RESTART = 1012, TRY_AGAIN_LATER = 1013,
			BAD_GATEWAY = 1014, TLS_HANDSHAKE = 1015,
		}
		for name, code in pairs(want) do
			assert(websocket.CLOSE_CODES[name] == code, name)
		end
		-- iteration sees exactly the sixteen codes
		local n = 0
		for name, code in pairs(websocket.CLOSE_CODES) do
			assert(want[name] == code, tostring(name))
			n = n + 1
		end
		assert(n == 16, "pairs saw " .. n)
		-- and the module's own fields
		local fields = {}
		for k in pairs(websocket) do fields[k] = true end
		for _, k in ipairs({"TYPE_TEXT", "TYPE_BINARY", "TYPE_PING", "TYPE_PONG", "TYPE_CLOSE", "CLOSE_CODES", "connect"}) do
			assert(fields[k], k)
		end
		assert(type(websocket.connect) == "function")
	`))
}

func TestConstantsReadOnly(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`websocket.TYPE_TEXT = "x"`, "attempt to modify read-only table websocket (field TYPE_TEXT)"},
		{`websocket.CLOSE_CODES.NORMAL = 1`, "attempt to modify read-only table websocket.CLOSE_CODES (field NORMAL)"},
		{`websocket.CLOSE_CODES.NEW = 4000`, "read-only table websocket.CLOSE_CODES (field NEW)"},
		{`websocket.CLOSE_CODES = {}`, "read-only table websocket (field CLOSE_CODES)"},
		{`websocket.connect = print`, "read-only table websocket (field connect)"},
		{`setmetatable(websocket.CLOSE_CODES, nil)`, "cannot change a protected metatable"},
		{`setmetatable(websocket, {})`, "cannot change a protected metatable"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			L := newPlainState(t)
			err := L.DoString(tt.src)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.NoError(t, L.DoString(`assert(websocket.TYPE_TEXT == "text" and websocket.CLOSE_CODES.NORMAL == 1000)`))
		})
	}
	L := newPlainState(t)
	require.NoError(t, L.DoString(`assert(getmetatable(websocket.CLOSE_CODES) == "websocket: read-only table")`))
}

func TestRequireReturnsGlobal(t *testing.T) {
	L := newPlainState(t)
	require.NoError(t, L.DoString(`
		local ws = require("websocket")
		assert(ws == websocket)
		assert(ws.CLOSE_CODES == websocket.CLOSE_CODES)
	`))
	Open(L) // idempotent
	require.NoError(t, L.DoString(`assert(require("websocket") == websocket)`))
}

func TestLoaderWithPreloadModule(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	L.PreloadModule("websocket", Loader)
	require.NoError(t, L.DoString(`
		assert(websocket == nil)
		local ws = require("websocket")
		assert(ws.TYPE_BINARY == "binary" and ws.CLOSE_CODES.TLS_HANDSHAKE == 1015)
		local n = 0
		for _ in pairs(ws.CLOSE_CODES) do n = n + 1 end
		assert(n == 16)
	`))
}

func TestOpenWithoutPackageLib(t *testing.T) {
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	defer L.Close()
	glua.OpenBase(L)
	Open(L)
	require.NoError(t, L.DoString(`assert(websocket.CLOSE_CODES.NORMAL == 1000)`))
}

func TestPairsWrapperKeepsPlainTables(t *testing.T) {
	L := newPlainState(t)
	require.NoError(t, L.DoString(`
		local t = {1, 2, 3, a = "x"}
		local n = 0
		for k, v in pairs(t) do n = n + 1; assert(t[k] == v) end
		assert(n == 4)
		local ok, err = pcall(pairs, nil)
		assert(not ok and err:find("table expected"), err)
		-- a user __pairs works too (Lua 5.2 semantics)
		local p = setmetatable({}, {__pairs = function(t) return function(_, k) if not k then return 1, "one" end end, t, nil end})
		for k, v in pairs(p) do assert(k == 1 and v == "one") end
	`))
}

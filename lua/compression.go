package lua

import (
	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/protocol"
)

// parseCompression reads the compression option of websocket.connect:
//
//	compression = true                 -- offer permessage-deflate with defaults
//	compression = false                -- do not offer it (the default)
//	compression = {
//	    level = 1,                     -- compress/flate level, -2..9 (default 1, best speed)
//	    threshold = 128,               -- messages shorter than this go uncompressed (bytes)
//	    context_takeover = true,       -- false: every message compressed on its own, both ways
//	    window_bits = 15,              -- 8..15: the LZ77 window both sides may use
//	}
//
// It returns nil when compression is off.
func parseCompression(v glua.LValue) (*protocol.CompressionOptions, error) {
	switch v := v.(type) {
	case glua.LBool:
		if !v {
			return nil, nil
		}
		return &protocol.CompressionOptions{}, nil
	case *glua.LTable:
		return parseCompressionTable(v)
	}
	return nil, optErr("compression", "boolean or table expected, got %s", v.Type())
}

// parseCompressionTable reads the table form of the compression option.
func parseCompressionTable(tbl *glua.LTable) (*protocol.CompressionOptions, error) {
	fields, err := stringKeyed(tbl, "option compression")
	if err != nil {
		return nil, err
	}
	o := &protocol.CompressionOptions{}
	for _, name := range sortedKeys(fields) {
		v := fields[name]
		switch name {
		case "level":
			n, err := parseInteger("compression.level", v, -2, 9)
			if err != nil {
				return nil, err
			}
			o.Level = int(n)
		case "threshold":
			n, err := parseInteger("compression.threshold", v, 0, 1<<20)
			if err != nil {
				return nil, err
			}
			o.Threshold = int(n)
			if n == 0 {
				o.Threshold = -1 // compress every message
			}
		case "context_takeover":
			b, ok := v.(glua.LBool)
			if !ok {
				return nil, optErr("compression.context_takeover", "boolean expected, got %s", v.Type())
			}
			o.ClientNoContextTakeover = !bool(b)
			o.ServerNoContextTakeover = !bool(b)
		case "window_bits":
			n, err := parseInteger("compression.window_bits", v, 8, 15)
			if err != nil {
				return nil, err
			}
			o.ClientMaxWindowBits = int(n)
			o.ServerMaxWindowBits = int(n)
		default:
			return nil, optErr("compression."+name, "unknown option")
		}
	}
	if err := o.Validate(); err != nil {
		return nil, optErr("compression", "%v", err)
	}
	return o, nil
}

// clientExtensions is client:extensions(): nil when no extension is in use,
// else a table describing permessage-deflate as negotiated:
// {name = "permessage-deflate", client_no_context_takeover = bool,
// server_no_context_takeover = bool, client_max_window_bits = n|nil,
// server_max_window_bits = n|nil}.
func clientExtensions(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 1, "client:extensions()", "")
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		L.Push(glua.LNil)
		return 1
	}
	co := conn.Compression()
	if co == nil {
		L.Push(glua.LNil)
		return 1
	}
	t := L.NewTable()
	t.RawSetString("name", glua.LString("permessage-deflate"))
	t.RawSetString("client_no_context_takeover", glua.LBool(co.ClientNoContextTakeover))
	t.RawSetString("server_no_context_takeover", glua.LBool(co.ServerNoContextTakeover))
	if co.ClientMaxWindowBits != 0 {
		t.RawSetString("client_max_window_bits", glua.LNumber(co.ClientMaxWindowBits))
	}
	if co.ServerMaxWindowBits != 0 {
		t.RawSetString("server_max_window_bits", glua.LNumber(co.ServerMaxWindowBits))
	}
	L.Push(t)
	return 1
}

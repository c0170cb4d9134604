// Package luajson is a JSON module for gopher-lua, built on the standard
// library (encoding/json reads the input; the output is written directly).
//
// Open installs it as the global json and as package.loaded/preload["json"];
// Loader is the same module for LState.PreloadModule. The wslua command
// installs it.
//
// # Lua API
//
//	json.encode(v)     -> string | nil, err
//	json.decode(s)     -> value  | nil, err
//	json.null          -- the JSON null (a userdata; tostring gives "null")
//	json.array([t])    -> t marked as a JSON array  (a new table when t is nil)
//	json.object([t])   -> t marked as a JSON object (a new table when t is nil)
//
// Data that cannot be converted is an error returned as a value (nil and a
// message starting with "json.encode: " or "json.decode: "). Calling a
// function with a wrong number of arguments, or json.array/json.object
// with something other than a table, raises an error: that is a bug in the
// script, not a property of the data.
//
// # Lua to JSON (encode)
//
//   - nil and json.null encode as null; booleans as true/false.
//   - Strings must be valid UTF-8 (a binary string is an error, not silently
//     replaced: encode it first, e.g. as hex or base64). They are written
//     with the escapes JSON requires (", \, control characters) and U+2028
//     and U+2029 escaped; <, > and & are written as they are.
//   - Numbers (Lua numbers are float64): an integral value with magnitude
//     below 1e21 is written without fraction or exponent (3, -7,
//     18014398509481984); integers are exact up to 2^53, beyond which a
//     Lua number holds only every other integer (or fewer) and prints as
//     the float64 it is. Other values are written in the shortest form
//     that reads back to the same float64 (0.1, 1e-07, 1e+21). NaN and
//     infinities are errors.
//   - A table marked by json.array (or decoded from an array) is an array:
//     its keys must be 1..n. A table marked by json.object (or decoded from
//     an object) is an object.
//   - An unmarked table whose keys are exactly the integers 1..n (n >= 1) is
//     an array; an unmarked table with only string keys is an object (keys
//     sorted, so the output is deterministic). The empty unmarked table is
//     an object, {} (use json.array() for []). Holes in an array (keys 1, 3)
//     are an error: use json.null to keep a position.
//   - In an object, integral number keys are written as strings ("1"); a
//     table mixing keys 1..n with string keys is an error, as are keys of
//     other types (booleans, non-integral numbers, tables).
//   - A table that contains itself (a cycle), functions, userdata other
//     than json.null, threads, and nesting deeper than MaxDepth are errors.
//
// # JSON to Lua (decode)
//
//   - The input must be exactly one JSON value (surrounding white space
//     allowed) in valid UTF-8; anything else is an error naming the offset.
//   - null decodes as json.null (so that positions in arrays and keys in
//     objects are kept): test it with v == json.null, since json.null, like
//     every userdata, is true in a condition.
//   - Numbers decode as Lua numbers (float64): integers are exact up to
//     2^53 (9007199254740992) in magnitude; larger ones are rounded to the
//     nearest float64, so identifiers beyond that range should travel as
//     strings. Numbers beyond the float64 range are an error.
//   - Strings decode as Lua strings; \u escapes of lone surrogates become
//     U+FFFD, as encoding/json does.
//   - Arrays decode as tables with keys 1..n marked as arrays, objects as
//     tables with string keys marked as objects (duplicate keys: the last
//     one wins), so that json.encode(json.decode(s)) keeps [] and {}.
//     The marks are metatables; a script may replace them.
//   - Nesting deeper than MaxDepth is an error.
package luajson

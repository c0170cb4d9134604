package scheduler_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExtraArgumentsRaise checks that no function of the scheduler ignores
// an argument it does not take (issue 10, item 5: ch:receive(100) blocked
// forever, the 100 ignored). Each call raises before it could block.
func TestExtraArgumentsRaise(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`ch:receive(100)`, "ch:receive() takes no arguments, got 1 (to wait with a timeout use channel.select"},
		{`ch:send(1, 2)`, "ch:send(v) takes at most 1 argument, got 2"},
		{`ch:close(true)`, "ch:close() takes no arguments, got 1"},
		{`ch:len(1)`, "ch:len() takes no arguments, got 1"},
		{`ch:cap(1)`, "ch:cap() takes no arguments, got 1"},
		{`ch:case_receive(1)`, "ch:case_receive() takes no arguments, got 1"},
		{`ch:case_send(1, 2)`, "ch:case_send(v) takes at most 1 argument, got 2"},
		{`channel.new(1, 2)`, "channel.new([size]) takes at most 1 argument, got 2"},
		{`time.sleep(1, 2)`, "time.sleep(d) takes at most 1 argument, got 2"},
		{`time.after(1, 2)`, "time.after(d) takes at most 1 argument, got 2"},
		{`coroutine.yield(1)`, "coroutine.yield() takes no arguments, got 1 (in a coroutine.spawn coroutine"},
		{`channel.select{ch:case_receive(), timeout = 5}`, `channel.select: unexpected key "timeout"`},
		{`channel.select{ch:case_receive(), defualt = true}`, `unexpected key "defualt"`},
		{`channel.select{ch:case_receive(), nil, ch:case_receive()}`, "unexpected key 3"},
		{`channel.select{ch:case_receive(), [1.5] = true}`, "unexpected key 1.5"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			L, _ := newState(t)
			err := runScript(t, L, `local ch = channel.new(1) `+tc.expr)
			requireErrContains(t, err, tc.want)
		})
	}
}

// TestArgumentChecksKeepValidCalls checks the calls the argument checks must
// still accept.
func TestArgumentChecksKeepValidCalls(t *testing.T) {
	L, rec := newState(t)
	require.NoError(t, runScript(t, L, `
		local ch = channel.new(2)
		ch:send()
		ch:send(1)
		emit(#ch, ch:len(), ch:cap())
		emit(ch:receive())
		emit(ch:receive())
		local r = channel.select{ch:case_send(3), default = true}
		emit(r.index, channel.select({ch:case_receive()}).value)
		time.sleep(0)
		coroutine.yield()
		ch:close()`))
	require.Equal(t, []string{"2 2 2", "nil true", "1 true", "1 3"}, rec.get())
}

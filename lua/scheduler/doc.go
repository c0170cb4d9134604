// Package scheduler is a small cooperative coroutine VM for gopher-lua:
// coroutine.spawn, Go-style channels with select, and timers, driven by a
// single goroutine.
//
// # Model
//
// Run executes a chunk as the main coroutine and drives every coroutine
// until all have finished. Exactly one goroutine — the one calling Run, the
// VM goroutine — ever touches the *lua.LState. A blocking call (ch:receive,
// ch:send, channel.select, time.sleep, or a Go function using Await) parks
// only the calling coroutine; the others keep running. Other goroutines hand
// plain Go values to the VM through Channel.SendGo, Channel.CloseGo and
// Await, which queue events for the VM goroutine.
//
// # Lua API
//
// Install (called by Run) sets these globals:
//
//	coroutine.spawn(fn, ...)   -- run fn(...) as a new coroutine (later); returns nothing
//	coroutine.yield()          -- in a scheduled coroutine: let the others run
//	channel.new([size])        -- size 0 (default): unbuffered, rendezvous like Go
//	ch:send(v)                 -- blocks until accepted; raises on a closed channel
//	ch:receive()               -- v, true; or nil, false once closed and drained
//	ch:close()                 -- raises "close of closed channel" if ch:close() already closed it;
//	                           -- a no-op when Go closed it (CloseGo)
//	ch:len(), #ch, ch:cap()    -- buffered values, buffer size
//	ch:case_receive(), ch:case_send(v)
//	channel.select{ c1:case_receive(), c2:case_send(v), default = true_or_function }
//	channel.select(case1, case2, ...)
//	time.sleep(d)              -- d: number of milliseconds, or a Go duration string ("250ms", "5s")
//	time.after(d)              -- channel (buffer 1) receiving the Unix time (seconds) once after d
//
// No function ignores an argument it does not take: ch:receive(100),
// time.sleep(1, 2), coroutine.yield(v) in a spawned coroutine (nothing would
// receive v) or a select table with a key other than 1..n and default raise
// an error naming the call.
//
// Go functions wait for a value with a time limit with Channel.Receive
// (the websocket client's client:read(timeout) is built on it).
//
// The channel global replaces gopher-lua's own channel module (whose
// receive returns ok, v and blocks the whole VM), also in package.loaded.
// The time table is added to an existing global "time" table if there is
// one; os.time is untouched.
//
// channel.select returns a table {channel = ch, value = v, ok = bool,
// index = i} describing the completed case: i is the case's position in
// the list, a receive case has ok == false when the channel is closed and
// drained, a send case has the sent value and ok == true. Among ready cases
// one is picked at random. With a truthy default and nothing ready it
// returns {default = true} at once (a default function is called first, as
// a nested call that must not block, and its first result is stored in
// value). Without default it blocks until a case can complete. A send case
// on a closed channel raises "send on closed channel", like Go.
//
// pcall and xpcall are replaced by versions that let the protected function
// block: inside a scheduled coroutine the function runs on a child thread
// of the coroutine. Anywhere else they are gopher-lua's.
//
// # Limits of the runtime
//
// gopher-lua can suspend a coroutine only when the blocking call was made
// directly from Lua code that the scheduler resumed. A blocking call made
// anywhere else while Run is active raises "blocking call from a
// non-yieldable context" (Await instead runs its work synchronously). The
// check is made for every potentially blocking call, whether or not it
// would actually block, so behaviour never depends on timing. The cases,
// and the pattern to use instead:
//
//   - Inside a coroutine made by coroutine.create or coroutine.wrap: it
//     yields to its own resumer, not to the scheduler. Use coroutine.spawn
//     and a channel (a generator becomes a producer coroutine sending on a
//     channel).
//   - Inside a for-in iterator: gopher-lua's OP_TFORLOOP calls the iterator
//     through a nested VM loop, so a suspension there would return into the
//     for loop instead of the scheduler. This is why the websocket client
//     has no client:messages() iterator: loop with
//     `while true do local msg = client:read() if not msg then break end ... end`
//     or with ch:receive().
//   - Inside a metamethod (__index, __tostring, __eq...) or a Go function
//     that calls Lua (table.sort's comparator, string.gsub's function, a
//     module callback): make the blocking call before or after.
//   - Scheduling is cooperative: a coroutine looping without a blocking
//     call keeps the others waiting (call coroutine.yield() or
//     time.sleep(0)); the Run's context still interrupts it.
//   - coroutine.yield in a spawned coroutine takes and returns no values;
//     xpcall(f, handler) passes no extra arguments to f (Lua 5.1).
//   - The interpreter limits are those of the state's gopher-lua Options
//     (lua.StateOptions in the wslua command: 12,000 nested calls, a value
//     stack of up to 1,048,576 values per thread) for the main chunk. A
//     spawned coroutine (and the protected calls it makes) nests at most
//     CoroutineCallStackSize calls (1,000), and its value stack starts
//     small and grows up to the state's limit: gopher-lua reserves a
//     thread's whole call stack up front, and a script holding thousands of
//     connections has a parked coroutine for each (about 5 KB each).
//
// # Without a running scheduler
//
// Channels also work in plain gopher-lua (L.DoString, no Run): ch:receive
// blocks the calling goroutine until a value or a close arrives, honouring
// L.Context() (cancellation raises the context's error as a Lua error);
// ch:send succeeds when buffer space is free and raises an error instead of
// blocking forever otherwise; time.sleep sleeps the goroutine; Await runs
// its work synchronously.
//
// # Go producers
//
// A Channel created by NewChannel with a non-nil conv counts as fed by a
// live Go producer until CloseGo is called: a coroutine waiting on it
// (receive, send or select) keeps Run waiting rather than failing with a
// deadlock. AddProducer and ProducerDone adjust the count explicitly; a
// channel created by channel.new, or by NewChannel with a nil conv, has no
// producer unless AddProducer is called. Pending time.sleep timers, Await
// calls in flight and time.after timers of channels a coroutine waits on
// also keep Run waiting. SendGo blocks until the value is accepted
// (backpressure), the context is done, the channel is closed or the Run
// ends.
//
// # Errors
//
// Run returns a *CoroutineError (coroutine name, message, Lua traceback)
// when a coroutine raises an uncaught error, a *DeadlockError listing every
// blocked coroutine and where it blocks when nothing can wake any of them,
// and ctx.Err() when its context is done. In every case it closes the
// closers registered with RegisterCloser and waits for its Await goroutines
// before returning.
//
// # gopher-lua internals
//
// gopher-lua v1.1.2 exposes neither "may this Go function yield?" nor
// "how many results does the suspended call expect?" (its Resume leaves
// missing results as Go nil registers). The package reads the unexported
// call frames by reflection (frames.go) to answer both, and reuses finished
// coroutine threads. Its Resume also reports "no results" as one nil, so
// every thread of a coroutine starts in a small Lua bootstrap that calls
// the thread's function and hands its results, counted, to the scheduler;
// that is what makes pcall(f) return exactly f's results. Upgrading
// gopher-lua requires running this package's tests.
package scheduler

package lua

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/lua/scheduler"
)

// luaConnect is websocket.connect(url [, options]): a client, or nil and an
// error message.
func luaConnect(L *glua.LState) int {
	scheduler.MaxArgs(L, 0, 2, "websocket.connect(url [, options])", "")
	fail := func(format string, args ...any) int {
		L.Push(glua.LNil)
		L.Push(glua.LString(fmt.Sprintf(format, args...)))
		return 2
	}
	rawURL, ok := L.Get(1).(glua.LString)
	if !ok {
		return fail("websocket: url must be a string, got %s", L.Get(1).Type())
	}
	opts, err := parseOptions(L, L.Get(2))
	if err != nil {
		return fail("websocket: %v", err)
	}

	c := newClient(displayURL(string(rawURL)), opts)
	c.ch = scheduler.NewChannelSafe(L, opts.ChannelCapacity, c.toLua) // toLua builds a table, never raises
	// The connection ends when the host stops the script: through the
	// scheduler, and through the context of the main LState (a coroutine's
	// own context ends with the coroutine, so it would be wrong here).
	c.mu.Lock()
	if s := scheduler.From(L); s != nil {
		c.unregister = s.RegisterCloser(c)
	}
	if hostCtx := L.G.MainThread.Context(); hostCtx != nil {
		c.stopWatch = context.AfterFunc(hostCtx, c.shutdown)
	}
	c.mu.Unlock()
	dopts := &handshake.DialOptions{
		Header:       opts.Header,
		Subprotocols: opts.Protocols,
		DialTimeout:  opts.DialTimeout,
		Compression:  opts.Compression,
		HTTP2:        opts.HTTP2,
		Conn:         c.protocolOptions(),
	}
	var wire *meter // set by the dialer
	if c.ka != nil {
		dopts.NetDialContext = dialer(&wire)
	}
	switch {
	case opts.Proxy != nil:
		p := opts.Proxy
		dopts.Proxy = func(*url.URL) (*url.URL, error) { return p, nil }
	case opts.NoProxy:
		dopts.Proxy = func(*url.URL) (*url.URL, error) { return nil, nil }
	}

	return scheduler.Await(L, func(ctx context.Context) any {
		if opts.TLS != nil {
			cfg, err := opts.TLS.config()
			if err != nil {
				c.abort()
				return fmt.Errorf("websocket: %w", err)
			}
			dopts.TLSConfig = cfg
		}
		conn, resp, err := handshake.Dial(ctx, string(rawURL), dopts)
		if err != nil {
			c.abort()
			if errors.Is(err, context.DeadlineExceeded) && opts.DialTimeout > 0 && ctx.Err() == nil {
				return fmt.Errorf("%w (%s)", err, dialTimeoutText(opts))
			}
			return err
		}
		c.wire = wire
		if resp != nil && resp.ProtoMajor == 2 {
			c.overHTTP2 = true
		}
		if !c.start(conn) {
			return errors.New("websocket: connection closed while connecting (the host stopped)")
		}
		return nil
	}, func(L *glua.LState, result any) int {
		if err, ok := result.(error); ok && err != nil {
			return fail("%s", err.Error())
		}
		L.Push(newClientValue(L, c))
		return 1
	})
}

// dialTimeoutText says which dial timeout expired, and whether it was the
// default.
func dialTimeoutText(opts connectOptions) string {
	if opts.DialTimeoutSet {
		return fmt.Sprintf("dial_timeout %v exceeded", opts.DialTimeout)
	}
	return fmt.Sprintf("dial_timeout %v exceeded: the default, set dial_timeout to change it or 0 for none", opts.DialTimeout)
}

// displayURL returns rawURL for display: scheme, host and path only, never
// credentials, query or fragment (they may hold secrets).
func displayURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "invalid URL"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

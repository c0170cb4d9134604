package interop

import "testing"

// TestInterop runs the whole suite (runSuite) for every client/server pair:
// our client against every peer server, and the peers' clients against our
// two servers (testserver and a plain handshake.Upgrade server). Our client
// against our Upgrade server checks the contract servers themselves.
func TestInterop(t *testing.T) {
	pairs := []struct {
		client clientImpl
		server func(t *testing.T) *target
		name   string
	}{
		{oursClient{}, newGorillaTarget, "gorilla-server"},
		{oursClient{}, newCoderTarget, "coder-server"},
		{oursClient{}, newNodeTarget, "node-ws-server"},
		{oursClient{}, newPythonTarget, "python-websockets-server"},
		{oursClient{}, newUpgradeTarget, "upgrade-server"},
		{gorillaClient{}, newTestserverTarget, "testserver"},
		{gorillaClient{}, newUpgradeTarget, "upgrade-server"},
		{coderClient{}, newTestserverTarget, "testserver"},
		{coderClient{}, newUpgradeTarget, "upgrade-server"},
	}
	for _, p := range pairs {
		t.Run(p.client.name()+"-client/"+p.name, func(t *testing.T) {
			runSuite(t, p.client, p.server(t))
		})
	}
}

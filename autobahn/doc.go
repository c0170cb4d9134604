// Package autobahn holds the Autobahn testsuite kit of this module: the
// fuzzingserver and fuzzingclient configurations, the Lua client driver
// (client.lua), run.sh and, in its subpackages, the Go client driver
// (driver, client), the report summarizer (summary) and a fake
// fuzzingserver for tests (internal/fakeserver). See README.md.
//
// The package itself has no code; its tests run client.lua through the
// wslua command against the fake fuzzingserver.
package autobahn

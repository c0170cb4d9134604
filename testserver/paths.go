package testserver

// Path describes one path the server answers on.
type Path struct {
	Path    string // "/", "/echo", "/drop", ...
	Summary string // one line: what the server does there, and its query parameters
}

// Paths returns the paths the server answers on, with a one-line summary of
// each, from the table it dispatches on (the package documentation has the
// details).
func Paths() []Path {
	out := make([]Path, len(scripts))
	for i, sc := range scripts {
		out[i] = Path{Path: sc.path, Summary: sc.summary}
	}
	return out
}

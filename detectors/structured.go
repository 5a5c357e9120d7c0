package detectors

// structuredRuns returns the runs of data that a file format encodes on
// its own terms, which findEncoded does not take: each with the text to
// scan in its place. It is called on a blob's own content only, not on
// decoded text.
func structuredRuns(path string, data []byte, st *scanState) []encoded {
	return nil
}

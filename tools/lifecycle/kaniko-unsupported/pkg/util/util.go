// Package util keeps the ignore list the lifecycle adds to; see
// ../../README.md.
package util

type IgnoreListEntry struct {
	Path            string
	PrefixMatchOnly bool
}

var defaultIgnoreList []IgnoreListEntry

func AddToDefaultIgnoreList(entry IgnoreListEntry) {
	defaultIgnoreList = append(defaultIgnoreList, entry)
}

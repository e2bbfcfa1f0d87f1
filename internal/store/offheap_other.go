//go:build !unix

package store

// offHeap allocates on the Go heap where memory cannot be mapped.
func offHeap[T uint16 | uint64](n int) ([]T, func()) { return make([]T, n), func() {} }

//go:build unix

package store

import (
	"syscall"
	"unsafe"
)

// offHeap returns n zeroed slots of T in memory mapped outside the Go heap,
// and the function that unmaps it. The dedup window keeps its table there:
// the garbage collector sets its heap goal at twice the live heap, so a
// table of tens of MB on the heap cost twice its size in RSS; off the heap
// it costs its size. T must hold no pointers.
func offHeap[T uint16 | uint64](n int) ([]T, func()) {
	if n == 0 {
		return nil, func() {}
	}
	var zero T
	mem, err := syscall.Mmap(-1, 0, n*int(unsafe.Sizeof(zero)), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]T, n), func() {} // on the heap, then
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[0])), n), func() { syscall.Munmap(mem) }
}

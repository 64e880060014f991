package fop

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Errno maps an error to the errno a front end reports: the wrapped
// syscall.Errno if there is one, ENOTCONN for connection failures, ETIMEDOUT
// for expired deadlines and EIO for anything else. nil maps to 0.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, os.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, os.ErrPermission):
		return syscall.EACCES
	case errors.Is(err, context.DeadlineExceeded):
		return syscall.ETIMEDOUT
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return syscall.ENOTCONN
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return syscall.ENOTCONN
	}
	return syscall.EIO
}

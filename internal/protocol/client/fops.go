package client

import (
	"context"
	"fmt"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/rpc"
)

func (c *Client) put(m *msg) {
	*m = msg{}
	c.msgs.Put(m)
}

func wrap(p rpc.Proc, what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", p, what, err)
}

func name(loc *fop.Loc) string {
	if loc.Path != "" {
		return loc.Path
	}
	if loc.Name != "" {
		return loc.Parent.String() + "/" + loc.Name
	}
	return loc.GFID.String()
}

// call runs p on the current connection.
func (c *Client) call(ctx context.Context, p rpc.Proc, m *msg, loc *fop.Loc) error {
	conn, _, err := c.connection(ctx)
	if err == nil {
		_, err = conn.Call(ctx, p, fop.CallerFrom(ctx), &m.req, nil, &m.resp, nil)
	}
	return wrap(p, name(loc), err)
}

// fdCall runs p on fd's connection, with payload out and rbuf in.
func (c *Client) fdCall(ctx context.Context, p rpc.Proc, m *msg, fd *fop.FD, payload, rbuf []byte) (int, error) {
	conn, num, err := c.remote(ctx, fd)
	n := 0
	if err == nil {
		m.req.FD = num
		n, err = conn.Call(ctx, p, fop.CallerFrom(ctx), &m.req, payload, &m.resp, rbuf)
	}
	return n, wrap(p, fd.GFID.String(), err)
}

// open runs Open, Opendir or Create and records the brick's fd number.
func (c *Client) open(ctx context.Context, p rpc.Proc, m *msg, loc *fop.Loc, fd *fop.FD, dir bool) error {
	if c.target.Load().noDirect {
		m.req.Flags &^= syscall.O_DIRECT
	}
	conn, gen, err := c.connection(ctx)
	if err == nil {
		m.req.FDGFID = fd.GFID
		_, err = conn.Call(ctx, p, fop.CallerFrom(ctx), &m.req, nil, &m.resp, nil)
	}
	if err != nil {
		return wrap(p, name(loc), err)
	}
	c.setRemote(fd, loc, m.resp.FD, gen, m.req.Flags, dir)
	return nil
}

func (c *Client) get() *msg { return c.msgs.Get().(*msg) }

// Lookup implements fop.Layer.
func (c *Client) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Dict = *loc, xreq
	err := c.call(ctx, rpc.ProcLookup, m, loc)
	return m.resp.Attr, m.resp.Dict, err
}

// Stat implements fop.Layer.
func (c *Client) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	err := c.call(ctx, rpc.ProcStat, m, loc)
	return m.resp.Attr, err
}

// Fstat implements fop.Layer.
func (c *Client) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	_, err := c.fdCall(ctx, rpc.ProcFstat, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Setattr implements fop.Layer.
func (c *Client) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Set = *loc, *set
	err := c.call(ctx, rpc.ProcSetattr, m, loc)
	return m.resp.Attr, err
}

// Fsetattr implements fop.Layer.
func (c *Client) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Set = *set
	_, err := c.fdCall(ctx, rpc.ProcFsetattr, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Truncate implements fop.Layer.
func (c *Client) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Size = *loc, size
	err := c.call(ctx, rpc.ProcTruncate, m, loc)
	return m.resp.Attr, err
}

// Ftruncate implements fop.Layer.
func (c *Client) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Size = size
	_, err := c.fdCall(ctx, rpc.ProcFtruncate, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Access implements fop.Layer.
func (c *Client) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Mode = *loc, mask
	return c.call(ctx, rpc.ProcAccess, m, loc)
}

// Readlink implements fop.Layer.
func (c *Client) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	err := c.call(ctx, rpc.ProcReadlink, m, loc)
	return m.resp.Str, err
}

// Mknod implements fop.Layer.
func (c *Client) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Mode, m.req.Umask, m.req.Rdev, m.req.Dict = *loc, mode, umask, rdev, xdata
	err = c.call(ctx, rpc.ProcMknod, m, loc)
	return m.resp.Attr, m.resp.Parent, err
}

// Mkdir implements fop.Layer.
func (c *Client) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Mode, m.req.Umask, m.req.Dict = *loc, mode, umask, xdata
	err = c.call(ctx, rpc.ProcMkdir, m, loc)
	return m.resp.Attr, m.resp.Parent, err
}

// Symlink implements fop.Layer.
func (c *Client) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Target, m.req.Umask, m.req.Dict = *loc, target, umask, xdata
	err = c.call(ctx, rpc.ProcSymlink, m, loc)
	return m.resp.Attr, m.resp.Parent, err
}

// Create implements fop.Layer.
func (c *Client) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Flags, m.req.Mode, m.req.Umask, m.req.Dict = *loc, flags, mode, umask, xdata
	err = c.open(ctx, rpc.ProcCreate, m, loc, fd, false)
	return m.resp.Attr, m.resp.Parent, err
}

// Link implements fop.Layer.
func (c *Client) Link(ctx context.Context, old, new *fop.Loc) (obj, parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Loc2 = *old, *new
	err = c.call(ctx, rpc.ProcLink, m, new)
	return m.resp.Attr, m.resp.Parent, err
}

// Unlink implements fop.Layer.
func (c *Client) Unlink(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	err = c.call(ctx, rpc.ProcUnlink, m, loc)
	return m.resp.Parent, err
}

// Rmdir implements fop.Layer.
func (c *Client) Rmdir(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	err = c.call(ctx, rpc.ProcRmdir, m, loc)
	return m.resp.Parent, err
}

// Rename implements fop.Layer.
func (c *Client) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (obj, oldParent, newParent fop.Attr, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Loc2, m.req.Flags = *old, *new, flags
	err = c.call(ctx, rpc.ProcRename, m, old)
	return m.resp.Attr, m.resp.Parent, m.resp.Parent2, err
}

// Open implements fop.Layer.
func (c *Client) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Flags = *loc, flags
	return c.open(ctx, rpc.ProcOpen, m, loc, fd, false)
}

// Read implements fop.Layer. Reads larger than one frame go in pieces.
func (c *Client) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	m := c.get()
	defer c.put(m)
	done := 0
	for done < len(buf) {
		chunk := min(len(buf)-done, rpc.MaxIO)
		m.req.Size, m.req.Off = uint64(chunk), off+int64(done)
		n, err := c.fdCall(ctx, rpc.ProcRead, m, fd, nil, buf[done:done+chunk])
		done += n
		if err != nil {
			return done, err
		}
		if n < chunk {
			break
		}
	}
	return done, nil
}

// Write implements fop.Layer. The data goes from buf to the socket; writes
// larger than one frame go in pieces.
func (c *Client) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	done := 0
	for {
		chunk := min(len(data)-done, rpc.MaxIO)
		m.req.Off = off + int64(done)
		_, err := c.fdCall(ctx, rpc.ProcWrite, m, fd, data[done:done+chunk], nil)
		if err != nil {
			return done, m.resp.Attr, err
		}
		done += int(m.resp.N)
		if int(m.resp.N) < chunk || done >= len(data) {
			return done, m.resp.Attr, nil
		}
	}
}

// Flush implements fop.Layer. On the brick it only releases the POSIX
// locks of the closing lock owner (writes are not held back there): for a
// file this client never locked it is answered here, saving the round
// trip every close after a write would cost.
func (c *Client) Flush(ctx context.Context, fd *fop.FD) error {
	if _, ok := c.locked.Load(fd.GFID); !ok {
		return nil
	}
	m := c.get()
	defer c.put(m)
	_, err := c.fdCall(ctx, rpc.ProcFlush, m, fd, nil, nil)
	return err
}

// Fsync implements fop.Layer.
func (c *Client) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Datasync = datasync
	_, err := c.fdCall(ctx, rpc.ProcFsync, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Release implements fop.Layer.
func (c *Client) Release(ctx context.Context, fd *fop.FD) error {
	return c.release(ctx, fd, rpc.ProcRelease)
}

// XattropRelease implements fop.XattropReleaser: one request, or, to a
// brick that does not know it (ENOSYS), an Xattrop and a Release.
func (c *Client) XattropRelease(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) error {
	m := c.get()
	defer c.put(m)
	m.req.XattropOp, m.req.Dict = op, xattrs
	_, err := c.fdCall(ctx, rpc.ProcXattropRelease, m, fd, nil, nil)
	if fop.Errno(err) != syscall.ENOSYS {
		fd.DelCtx(c)
		return err
	}
	_, err = c.Xattrop(ctx, &fop.Loc{GFID: fd.GFID}, op, xattrs)
	if rerr := c.Release(ctx, fd); err == nil {
		err = rerr
	}
	return err
}

var _ fop.XattropReleaser = (*Client)(nil)

// Opendir implements fop.Layer.
func (c *Client) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	return c.open(ctx, rpc.ProcOpendir, m, loc, fd, true)
}

// Readdir implements fop.Layer. One call returns at most
// rpc.MaxDirEntries entries.
func (c *Client) Readdir(ctx context.Context, fd *fop.FD, off uint64, limit int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	m := c.get()
	defer c.put(m)
	m.req.Cookie, m.req.Max, m.req.Plus, m.req.Dict = off, uint32(min(max(limit, 0), rpc.MaxDirEntries)), plus, xreq
	_, err := c.fdCall(ctx, rpc.ProcReaddir, m, fd, nil, nil)
	return m.resp.Entries, err
}

// Fsyncdir implements fop.Layer.
func (c *Client) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	m := c.get()
	defer c.put(m)
	m.req.Datasync = datasync
	_, err := c.fdCall(ctx, rpc.ProcFsyncdir, m, fd, nil, nil)
	return err
}

// Releasedir implements fop.Layer.
func (c *Client) Releasedir(ctx context.Context, fd *fop.FD) error {
	return c.release(ctx, fd, rpc.ProcReleasedir)
}

// Statfs implements fop.Layer.
func (c *Client) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc = *loc
	err := c.call(ctx, rpc.ProcStatfs, m, loc)
	return m.resp.Statfs, err
}

// Getxattr implements fop.Layer.
func (c *Client) Getxattr(ctx context.Context, loc *fop.Loc, key string) (fop.Dict, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Name = *loc, key
	err := c.call(ctx, rpc.ProcGetxattr, m, loc)
	return m.resp.Dict, err
}

// Fgetxattr implements fop.Layer.
func (c *Client) Fgetxattr(ctx context.Context, fd *fop.FD, key string) (fop.Dict, error) {
	m := c.get()
	defer c.put(m)
	m.req.Name = key
	_, err := c.fdCall(ctx, rpc.ProcFgetxattr, m, fd, nil, nil)
	return m.resp.Dict, err
}

// Setxattr implements fop.Layer.
func (c *Client) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Dict, m.req.Flags = *loc, xattrs, uint32(flags)
	return c.call(ctx, rpc.ProcSetxattr, m, loc)
}

// Fsetxattr implements fop.Layer.
func (c *Client) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	m := c.get()
	defer c.put(m)
	m.req.Dict, m.req.Flags = xattrs, uint32(flags)
	_, err := c.fdCall(ctx, rpc.ProcFsetxattr, m, fd, nil, nil)
	return err
}

// Removexattr implements fop.Layer.
func (c *Client) Removexattr(ctx context.Context, loc *fop.Loc, key string) error {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.Name = *loc, key
	return c.call(ctx, rpc.ProcRemovexattr, m, loc)
}

// Fremovexattr implements fop.Layer.
func (c *Client) Fremovexattr(ctx context.Context, fd *fop.FD, key string) error {
	m := c.get()
	defer c.put(m)
	m.req.Name = key
	_, err := c.fdCall(ctx, rpc.ProcFremovexattr, m, fd, nil, nil)
	return err
}

// Xattrop implements fop.Layer.
func (c *Client) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	m := c.get()
	defer c.put(m)
	m.req.Loc, m.req.XattropOp, m.req.Dict = *loc, op, xattrs
	err := c.call(ctx, rpc.ProcXattrop, m, loc)
	return m.resp.Dict, err
}

// Fxattrop implements fop.Layer.
func (c *Client) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	m := c.get()
	defer c.put(m)
	m.req.XattropOp, m.req.Dict = op, xattrs
	_, err := c.fdCall(ctx, rpc.ProcFxattrop, m, fd, nil, nil)
	return m.resp.Dict, err
}

// Lk implements fop.Layer.
func (c *Client) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	if cmd != fop.GetLk {
		// Before sending: the lock may be granted even if the reply
		// is lost.
		c.locked.LoadOrStore(fd.GFID, struct{}{})
	}
	m := c.get()
	defer c.put(m)
	m.req.Cmd, m.req.Lock = int64(cmd), *lock
	_, err := c.fdCall(ctx, rpc.ProcLk, m, fd, nil, nil)
	return m.resp.Lock, err
}

// Inodelk implements fop.Layer.
func (c *Client) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	m := c.get()
	defer c.put(m)
	m.req.Domain, m.req.Loc, m.req.Cmd, m.req.Lock = domain, *loc, int64(cmd), *lock
	return c.call(ctx, rpc.ProcInodelk, m, loc)
}

// Finodelk implements fop.Layer.
func (c *Client) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	m := c.get()
	defer c.put(m)
	m.req.Domain, m.req.Cmd, m.req.Lock = domain, int64(cmd), *lock
	_, err := c.fdCall(ctx, rpc.ProcFinodelk, m, fd, nil, nil)
	return err
}

// Entrylk implements fop.Layer.
func (c *Client) Entrylk(ctx context.Context, domain string, loc *fop.Loc, key string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	m := c.get()
	defer c.put(m)
	m.req.Domain, m.req.Loc, m.req.Name, m.req.EntryCmd, m.req.EntryType = domain, *loc, key, cmd, typ
	return c.call(ctx, rpc.ProcEntrylk, m, loc)
}

// Fentrylk implements fop.Layer.
func (c *Client) Fentrylk(ctx context.Context, domain string, fd *fop.FD, key string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	m := c.get()
	defer c.put(m)
	m.req.Domain, m.req.Name, m.req.EntryCmd, m.req.EntryType = domain, key, cmd, typ
	_, err := c.fdCall(ctx, rpc.ProcFentrylk, m, fd, nil, nil)
	return err
}

// Fallocate implements fop.Layer.
func (c *Client) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Mode, m.req.Off, m.req.Len = mode, off, length
	_, err := c.fdCall(ctx, rpc.ProcFallocate, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Discard implements fop.Layer.
func (c *Client) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Off, m.req.Len = off, length
	_, err := c.fdCall(ctx, rpc.ProcDiscard, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Zerofill implements fop.Layer.
func (c *Client) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	m := c.get()
	defer c.put(m)
	m.req.Off, m.req.Len = off, length
	_, err := c.fdCall(ctx, rpc.ProcZerofill, m, fd, nil, nil)
	return m.resp.Attr, err
}

// Seek implements fop.Layer.
func (c *Client) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	m := c.get()
	defer c.put(m)
	m.req.Off, m.req.Cmd = off, int64(whence)
	_, err := c.fdCall(ctx, rpc.ProcSeek, m, fd, nil, nil)
	return int64(m.resp.N), err
}

// Rchecksum implements fop.Layer.
func (c *Client) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (weak uint32, strong []byte, err error) {
	m := c.get()
	defer c.put(m)
	m.req.Off, m.req.Size = off, uint64(length)
	_, err = c.fdCall(ctx, rpc.ProcRchecksum, m, fd, nil, nil)
	return uint32(m.resp.N), m.resp.Strong, err
}

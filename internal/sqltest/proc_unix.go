//go:build unix

package sqltest

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// nobody returns the uid and gid to run servers as when we are root.
func nobody() (uid, gid int, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, false
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, true
}

// unprivileged makes cmd run as nobody when we are root.
func unprivileged(cmd *exec.Cmd) error {
	if uid, gid, ok := nobody(); ok {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	}
	return nil
}

// unprivilegedDir gives dir (and what is in it) to nobody when we are root.
func unprivilegedDir(dir string) error {
	uid, gid, ok := nobody()
	if !ok {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

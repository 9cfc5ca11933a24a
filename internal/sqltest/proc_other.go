//go:build !unix

package sqltest

import "os/exec"

func unprivileged(*exec.Cmd) error { return nil }
func unprivilegedDir(string) error { return nil }

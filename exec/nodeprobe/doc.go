// Package nodeprobe tests a Proxmox node before Corral stores it and while
// it is listed: its API certificate and SSH host key without credentials,
// then its token, privileges, cluster and SSH login over exactly the keys
// the user confirmed, and explains each failure in words a user can act
// on, with the commands that fix it.
package nodeprobe

package store

import _ "embed"

// dockerAptKey is Docker's apt repository signing key, as
// https://download.docker.com/linux/debian/gpg serves it (fingerprint
// 9DC8 5822 9FC7 DD38 854A E2D8 8D81 803C 0EBF CD88, which Docker's install
// guide names). The Docker host template ships it as
// /etc/apt/keyrings/docker.asc, so the key is pinned by Corral instead of
// fetched over the network at creation time.
//
//go:embed builtin/docker.asc
var dockerAptKey string

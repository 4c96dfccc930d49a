package exec

import (
	"runtime"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"
)

// upstreamCiphers orders the ciphers Corral offers a node, the client's
// preference being the one SSH honours. AES-GCM is fastest where the CPU
// has AES and carry-less multiply instructions; without them (a Raspberry
// Pi 4) ChaCha20-Poly1305 in software is several times faster than AES.
func upstreamCiphers() []string {
	return cipherOrder(aesHardware)
}

// aesHardware is read once; tests set it to see the other order negotiated.
var aesHardware = hasAESGCMHardware()

func cipherOrder(aesHardware bool) []string {
	if aesHardware {
		return []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305,
			ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
	}
	return []string{ssh.CipherChaCha20Poly1305, ssh.CipherAES128GCM, ssh.CipherAES256GCM,
		ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
}

func hasAESGCMHardware() bool {
	switch runtime.GOARCH {
	case "amd64", "386":
		return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ
	case "arm64":
		return cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		return cpu.S390X.HasAES && cpu.S390X.HasAESGCM
	case "ppc64le":
		return true // POWER8 and later have AES instructions
	}
	return false
}

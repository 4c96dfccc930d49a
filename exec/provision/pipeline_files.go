package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"corral/store"
)

// deployFileScript places one file from stdin according to its policy:
//
//	replace: write it; default: only if the target is missing;
//	backup: move a differing target to NAME.backup-TIMESTAMP, then write.
//
// An identical target (same SHA-256) is always left alone. The new content
// goes to a temporary file in the same directory first, so the target is
// replaced atomically with its mode and owner already set.
// Arguments: dir name policy mode owner sha256 timestamp.
const deployFileScript = `set -e
dir=$1 name=$2 policy=$3 mode=$4 owner=$5 sum=$6 ts=$7
target="$dir/$name"
mkdir -p "$dir"
if [ -e "$target" ]; then
  cur=$(sha256sum "$target" | cut -d' ' -f1)
  if [ "$cur" = "$sum" ]; then echo "unchanged: $target"; exit 0; fi
  case $policy in
    default) echo "kept (exists and differs, policy default): $target"; exit 0 ;;
    backup) cp -p "$target" "$target.backup-$ts"; echo "backed up: $target.backup-$ts" ;;
  esac
fi
tmp="$dir/.corral-new-$name"
cat > "$tmp"
if [ -n "$mode" ]; then chmod "$mode" "$tmp"; fi
if [ -n "$owner" ]; then chown "$owner" "$tmp"; fi
mv -f "$tmp" "$target"
echo "deployed: $target"
`

var (
	fileModeRe  = regexp.MustCompile(`^[0-7]{3,4}$`)
	fileOwnerRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?(:[a-z_][a-z0-9_-]*[$]?)?$`)
)

// checkFile refuses a file the plan should never have held.
func checkFile(f store.File) error {
	switch {
	case f.Name == "" || strings.ContainsAny(f.Name, "/\x00") || f.Name == "." || f.Name == "..":
		return fmt.Errorf("bad file name %q", f.Name)
	case !path.IsAbs(f.TargetDir) || path.Clean(f.TargetDir) != f.TargetDir || strings.ContainsRune(f.TargetDir, 0):
		return fmt.Errorf("bad target directory %q", f.TargetDir)
	case f.Mode != "" && !fileModeRe.MatchString(f.Mode):
		return fmt.Errorf("bad mode %q", f.Mode)
	case f.Owner != "" && !fileOwnerRe.MatchString(f.Owner):
		return fmt.Errorf("bad owner %q", f.Owner)
	}
	switch f.Policy {
	case "replace", "default", "backup":
		return nil
	}
	return fmt.Errorf("unknown policy %q", f.Policy)
}

// deployFiles places every file of the plan, in order.
func (p *pipeline) deployFiles(ctx context.Context, st Step) error {
	ts := time.Now().UTC().Format("20060102-150405")
	for _, f := range p.job.Plan.Files {
		target := path.Join(f.TargetDir, f.Name)
		if err := checkFile(f); err != nil {
			return &store.StepError{Step: st.Key, Message: fmt.Sprintf("cannot deploy %s: %v", target, err)}
		}
		argv := deployArgv(f, ts)
		// Never nil: an empty file still gets an (empty) stdin.
		if err := p.command(ctx, st, "deploy "+target, argv, []byte(f.Content)); err != nil {
			return err
		}
	}
	return nil
}

// deployArgv is the command placing f, whose content goes to its stdin.
func deployArgv(f store.File, ts string) []string {
	sum := sha256.Sum256([]byte(f.Content))
	return []string{"sh", "-c", deployFileScript, "sh", f.TargetDir, f.Name, string(f.Policy), f.Mode, f.Owner, hex.EncodeToString(sum[:]), ts}
}

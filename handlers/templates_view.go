package handlers

import (
	"cmp"
	"fmt"
	"path"
	"strconv"
	"strings"

	"corral/store"
	"corral/views"
)

// Conversions from template records to the view models of views/templates*.

// managerLabels names package managers for people.
var managerLabels = map[store.PackageManager]string{
	store.ManagerApt:    "APT",
	store.ManagerNpm:    "npm (global)",
	store.ManagerPip:    "pip",
	store.ManagerCustom: "Custom",
}

// managerHints explain each package list in the form.
var managerHints = map[store.PackageManager]string{
	store.ManagerApt:    "One Debian package per line, e.g. curl or nodejs=24.*; # starts a comment.",
	store.ManagerNpm:    "One npm package per line, e.g. typescript@5.",
	store.ManagerPip:    "One pip requirement per line, e.g. requests==2.32.",
	store.ManagerCustom: "name|check command|install command — install runs when the check fails.",
}

// templateOrigin says whose a template is, as userID sees it: "" for their
// own private one, "shared" for their own shared one, "shared by NAME" for
// another account's, "built-in" for a starter.
func templateOrigin(t store.Template, userID string) string {
	switch {
	case t.Owner == "":
		return "built-in"
	case t.Owner != userID:
		return "shared by " + cmp.Or(t.OwnerName, "another account")
	case t.Shared:
		return "shared"
	}
	return ""
}

func templateCard(t store.Template, userID string) views.TemplateCard {
	return views.TemplateCard{
		ID: t.ID, Name: t.Name, Description: t.Description, Source: string(t.Source), Tags: t.Tags,
		Origin:    templateOrigin(t, userID),
		Resources: fmt.Sprintf("%s · %s RAM · %s disk", coresText(t.Cores), mibText(t.Memory), gibText(t.Disk)),
		Scripts:   len(t.Scripts), Files: len(t.Files), Packages: len(t.Packages),
	}
}

func coresText(n int) string {
	switch n {
	case 0:
		return "default cores"
	case 1:
		return "1 core"
	}
	return strconv.Itoa(n) + " cores"
}

// mibText formats MiB as "512 MiB" or "2.0 GiB"; 0 is the Proxmox default.
func mibText(n int) string {
	switch {
	case n == 0:
		return "default"
	case n < 1024:
		return strconv.Itoa(n) + " MiB"
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/1024)
}

func gibText(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n) + " GiB"
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// withName is t named name, to compare recipes whatever the copy is called.
func withName(t store.Template, name string) store.Template {
	t.Name = name
	return t
}

// templateDetail shows t to userID; builtin is the built-in t is a copy
// of, or the zero template.
func templateDetail(csrf string, t, builtin store.Template, userID string) views.TemplateDetail {
	swap := "default"
	if t.Swap != nil {
		swap = mibText(*t.Swap)
		if *t.Swap == 0 {
			swap = "none"
		}
	}
	v := views.TemplateDetail{
		CSRF: csrf, ID: t.ID, Name: t.Name, Description: t.Description, Source: string(t.Source), Path: t.Path, Tags: t.Tags,
		Origin: templateOrigin(t, userID), Editable: t.EditableBy(userID), Shared: t.Shared,
		Builtin: builtin.Name, MatchesBuiltin: builtin.Name != "" && store.SameRecipe(withName(t, builtin.Name), builtin),
		Config: []views.KeyValue{
			{Key: "OS template", Value: orDefault(t.OSTemplate)},
			{Key: "CPU", Value: coresText(t.Cores)},
			{Key: "Memory", Value: mibText(t.Memory)},
			{Key: "Swap", Value: swap},
			{Key: "Disk", Value: gibText(t.Disk)},
			{Key: "Storage", Value: orDefault(t.Storage)},
			{Key: "Bridge", Value: orDefault(t.Bridge)},
		},
		Features: []views.Feature{
			{Name: "Unprivileged", On: t.Features.Unprivileged},
			{Name: "Nesting", On: t.Features.Nesting},
			{Name: "keyctl", On: t.Features.Keyctl},
			{Name: "FUSE", On: t.Features.Fuse},
		},
	}
	for _, s := range t.Scripts {
		v.Scripts = append(v.Scripts, views.ScriptView{Name: s.Name, Content: s.Content, Enabled: s.Enabled})
	}
	for _, f := range t.Files {
		mode := f.Mode
		if mode == "" {
			mode = "0644"
		}
		v.Files = append(v.Files, views.FileView{
			Name: f.Name, Target: path.Join(f.TargetDir, f.Name), Policy: string(f.Policy),
			PolicyHelp: views.PolicyHelp(string(f.Policy)), Mode: mode, Owner: f.Owner, Content: f.Content,
		})
	}
	for _, m := range store.PackageManagers {
		var names []string
		for _, p := range t.PackagesBy(m) {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			v.Packages = append(v.Packages, views.PackageGroup{Manager: string(m), Label: managerLabels[m], Names: names})
		}
	}
	return v
}

// templateForm fills the form from a stored template.
func templateForm(t store.Template) views.TemplateForm {
	f := views.TemplateForm{
		ID: t.ID, Name: t.Name, Title: t.Name, Description: t.Description, Tags: strings.Join(t.Tags, ";"),
		OSTemplate: t.OSTemplate, Cores: intText(t.Cores), Memory: intText(t.Memory), Disk: intText(t.Disk),
		Storage: t.Storage, Bridge: t.Bridge,
		Unprivileged: t.Features.Unprivileged, Nesting: t.Features.Nesting, Keyctl: t.Features.Keyctl, Fuse: t.Features.Fuse,
	}
	if t.Swap != nil {
		f.Swap = strconv.Itoa(*t.Swap)
	}
	for _, s := range t.Scripts {
		f.Scripts = append(f.Scripts, views.ScriptField{Name: s.Name, Content: s.Content, Enabled: s.Enabled})
	}
	for _, fl := range t.Files {
		f.Files = append(f.Files, views.FileField{Name: fl.Name, TargetDir: fl.TargetDir, Policy: string(fl.Policy), Mode: fl.Mode, Owner: fl.Owner, Content: fl.Content})
	}
	f.Packages = packageFields(t.Packages)
	return f
}

// packageFields renders packages as one text list per manager.
func packageFields(pkgs []store.Package) []views.PackageField {
	t := store.Template{Packages: pkgs}
	out := make([]views.PackageField, 0, len(store.PackageManagers))
	for _, m := range store.PackageManagers {
		out = append(out, views.PackageField{
			Manager: string(m), Label: managerLabels[m], Hint: managerHints[m],
			Text: store.FormatPackageList(t.PackagesBy(m)),
		})
	}
	return out
}

func intText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

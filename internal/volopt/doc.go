package volopt

import (
	"fmt"
	"strings"
)

// MarkdownTable renders the option table for docs/volumes.md.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Option | Type | Default | Applies to | Description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, o := range All() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
			o.Key, kindText(o), defaultText(o.Default), targetsText(o), strings.ReplaceAll(o.Description, "|", "\\|"))
	}
	return b.String()
}

func kindText(o Option) string {
	switch {
	case o.Kind == Enum:
		return strings.Join(o.Values, " \\| ")
	case (o.Kind == Int || o.Kind == Time) && (o.Min != 0 || o.Max != 0):
		return fmt.Sprintf("%s %d–%d", o.Kind, o.Min, o.Max)
	case o.Kind == Size && o.Max != 0:
		return fmt.Sprintf("size %s–%s", sizeText(o.Min), sizeText(o.Max))
	}
	return o.Kind.String()
}

func sizeText(n int64) string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if n >= u.m && n%u.m == 0 {
			return fmt.Sprintf("%d%s", n/u.m, u.s)
		}
	}
	return fmt.Sprint(n)
}

func defaultText(d string) string {
	if d == "" {
		return "–"
	}
	return "`" + d + "`"
}

func targetsText(o Option) string {
	if len(o.Targets) == 0 {
		return "glusterd / gateways"
	}
	var parts []string
	for _, t := range o.Targets {
		what := "`" + t.Layer + "`"
		if t.Option == "" {
			what += " on/off"
		} else {
			what += " `" + t.Option + "`"
		}
		parts = append(parts, t.Graph.String()+": "+what)
	}
	return strings.Join(parts, "<br>")
}

// Command rulecheck is `promtool check rules` for PrometheusRule objects: it hands each object's
// spec to Prometheus' own rule-file parser (rulefmt), which rejects unknown fields, parses every
// expression with the real PromQL parser and type checker, and parses the label and annotation
// templates. promtool itself cannot be built from the module proxy (one of its service-discovery
// dependencies is not served there), and rulefmt is all of promtool that `check rules` uses.
//
// Usage:
//
//	rulecheck FILE...        each file holds YAML documents; kinds other than PrometheusRule are skipped
//	rulecheck -exprs FILE    FILE is a JSON array of {"where", "expr"}: each expr is parsed and
//	                         type-checked alone (the Grafana dashboard's queries, variables substituted)
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

type object struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Spec     yaml.Node             `yaml:"spec"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rulecheck FILE...")
		os.Exit(2)
	}
	if os.Args[1] == "-exprs" && len(os.Args) == 3 {
		os.Exit(checkExprs(os.Args[2]))
	}
	failed, checked := 0, 0
	for _, file := range os.Args[1:] {
		n, errs := checkFile(file)
		checked += n
		for _, err := range errs {
			fmt.Fprintf(os.Stderr, "rulecheck: %s: %v\n", file, err)
		}
		failed += len(errs)
	}
	if failed > 0 {
		os.Exit(1)
	}
	if checked == 0 {
		fmt.Fprintln(os.Stderr, "rulecheck: no PrometheusRule found")
		os.Exit(1)
	}
	fmt.Printf("rulecheck: %d rule group(s) valid\n", checked)
}

// checkFile returns the number of rule groups checked and every problem found.
func checkFile(file string) (int, []error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return 0, []error{err}
	}
	decoder := yaml.NewDecoder(bytes.NewReader(content))
	groups := 0
	var errs []error
	for {
		var obj object
		err := decoder.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return groups, errs
		}
		if err != nil {
			return groups, append(errs, err)
		}
		if obj.Kind != "PrometheusRule" {
			continue
		}
		spec, err := yaml.Marshal(&obj.Spec)
		if err != nil {
			return groups, append(errs, err)
		}
		parsed, ruleErrs := rulefmt.Parse(spec, false, model.UTF8Validation)
		for _, e := range ruleErrs {
			errs = append(errs, fmt.Errorf("PrometheusRule %s: %w", obj.Metadata.Name, e))
		}
		if parsed != nil {
			groups += len(parsed.Groups)
		}
	}
}

// checkExprs parses every expression of a JSON list and returns the exit code.
func checkExprs(file string) int {
	content, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rulecheck: %v\n", err)
		return 1
	}
	var exprs []struct{ Where, Expr string }
	if err := json.Unmarshal(content, &exprs); err != nil {
		fmt.Fprintf(os.Stderr, "rulecheck: %s: %v\n", file, err)
		return 1
	}
	failed := 0
	for _, e := range exprs {
		if _, err := parser.ParseExpr(e.Expr); err != nil {
			fmt.Fprintf(os.Stderr, "rulecheck: %s: %v\n  in: %s\n", e.Where, err, e.Expr)
			failed++
		}
	}
	if failed > 0 || len(exprs) == 0 {
		fmt.Fprintf(os.Stderr, "rulecheck: %d of %d expressions invalid\n", failed, len(exprs))
		return 1
	}
	fmt.Printf("rulecheck: %d expressions valid\n", len(exprs))
	return 0
}

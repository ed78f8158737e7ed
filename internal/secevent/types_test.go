package secevent_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/authd/authd/internal/secevent"
)

// Types lists every event-type constant of event.go: one added there and
// forgotten here would have no counter until its first event.
func TestTypesListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, s)
				}
			}
		}
	}
	got := secevent.Types()
	slices.Sort(declared)
	slices.Sort(got)
	if len(declared) < 20 || !slices.Equal(got, slices.Compact(slices.Clone(got))) || !slices.Equal(got, declared) {
		t.Fatalf("Types() = %v\nevent.go declares %v", got, declared)
	}
}

// Every type has its counter from the start, at zero.
func TestByTypeStartsAtZero(t *testing.T) {
	p := secevent.New(nopSink{}, secevent.Options{})
	defer p.Close(t.Context())
	by := p.ByType()
	for _, typ := range secevent.Types() {
		if n, ok := by[typ]; !ok || n != 0 {
			t.Errorf("ByType()[%q] = %d, %v; want 0, present", typ, n, ok)
		}
	}
	p.Emit(secevent.Event{Type: secevent.RefreshReused})
	if n := p.ByType()[secevent.RefreshReused]; n != 1 {
		t.Errorf("after one emit: %d", n)
	}
}

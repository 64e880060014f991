package volopt

import (
	"testing"
	"time"
)

func TestLayerOptions(t *testing.T) {
	opts := map[string]string{"on": "enable", "t": "30s", "bad": "x"}
	if b, err := LayerBool(opts, "on", false); err != nil || !b {
		t.Errorf("LayerBool set: %v %v", b, err)
	}
	if b, err := LayerBool(opts, "absent", true); err != nil || !b {
		t.Errorf("LayerBool default: %v %v", b, err)
	}
	if d, err := LayerSeconds(opts, "t", time.Second); err != nil || d != 30*time.Second {
		t.Errorf("LayerSeconds set: %v %v", d, err)
	}
	if d, err := LayerSeconds(opts, "absent", time.Second); err != nil || d != time.Second {
		t.Errorf("LayerSeconds default: %v %v", d, err)
	}
	if _, err := LayerBool(opts, "bad", false); err == nil {
		t.Error("LayerBool took x")
	}
	if _, err := LayerSeconds(opts, "bad", 0); err == nil {
		t.Error("LayerSeconds took x")
	}
}

package auth

import (
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

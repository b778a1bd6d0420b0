package graph

import (
	"fmt"
	"net/url"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

// checkBadgeText applies the text policy (input.Text) to what members read
// of a badge: its name, description and level names, checks its image
// address, and bounds its thresholds (program.MaxBalance).
//
// MERGE NOTE: this belongs in the badge's own validate (game/engagement.go,
// which another branch moves into its own package); it sits here so the two
// branches do not edit that file at once. Move it there and call it first.
func checkBadgeText(in *game.BadgeInput) error {
	var err error
	if in.Name, err = input.Line("name", in.Name, 100); err != nil {
		return err
	}
	if in.Description, err = (input.Text{Max: 1000, Multiline: true, Optional: true}).Check("description", in.Description); err != nil {
		return err
	}
	if in.ImageURL != "" {
		if u, perr := url.Parse(in.ImageURL); perr != nil || u.Scheme != "https" || u.Host == "" || len(in.ImageURL) > 2048 {
			return input.Errorf("imageUrl", "must be an https URL")
		}
	}
	for i := range in.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if in.Levels[i].Name, err = input.Line(f+".name", in.Levels[i].Name, 40); err != nil {
			return err
		}
		if in.Levels[i].Threshold > program.MaxBalance {
			return input.Errorf(f+".threshold", "must be at most %d", program.MaxBalance)
		}
	}
	return nil
}

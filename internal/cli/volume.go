package cli

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

const (
	createUsage      = "volume create <NEW-VOLNAME> [stripe <COUNT>] [[replica <COUNT> [arbiter <COUNT>]]] [disperse [<COUNT>]] [disperse-data <COUNT>] [redundancy <COUNT>] [transport <tcp|rdma|tcp,rdma>] <NEW-BRICK>... [force]"
	stopQuestion     = "Stopping volume will make its data inaccessible. Do you want to continue?"
	deleteQuestion   = "Deleting volume will erase all information about the volume. Do you want to continue?"
	replica2Question = "Replica 2 volumes are prone to split-brain. Use Arbiter or Replica 3 to avoid this. See: http://docs.gluster.org/en/latest/Administrator-Guide/Split-brain-and-ways-to-deal-with-it/.\nDo you still want to continue?\n"
)

func (s *session) volumeCommands() *cobra.Command {
	vol := group("volume", "volume commands", 1)
	vol.AddCommand(
		leaf("create <NEW-VOLNAME> [stripe <COUNT>] [replica <COUNT> [arbiter <COUNT>]] [disperse [<COUNT>]] [redundancy <COUNT>] [transport <tcp|rdma|tcp,rdma>] <NEW-BRICK>... [force]", "create a new volume of specified type with mentioned bricks", s.volumeCreate),
		leaf("start <VOLNAME> [force]", "start volume specified by <VOLNAME>", s.volumeStart),
		leaf("stop <VOLNAME> [force]", "stop volume specified by <VOLNAME>", s.volumeStop),
		leaf("delete <VOLNAME>", "delete volume specified by <VOLNAME>", s.volumeDelete),
		leaf("info [all|<VOLNAME>]", "list information of all volumes", s.volumeInfo),
		leaf("status [all|<VOLNAME>] [detail]", "display status of all or specified volume(s)", s.volumeStatus),
		leaf("list", "list all volumes in cluster", s.volumeList),
		leaf("set <VOLNAME> <KEY> <VALUE>", "set options for volume <VOLNAME>", s.volumeSet),
		leaf("get <VOLNAME> <key|all>", "Get the value of the all options or given option for volume <VOLNAME>", s.volumeGet),
		leaf("reset <VOLNAME> [option] [force]", "reset all the reconfigured options", s.volumeReset),
		leaf("heal", "self-heal commands on volume specified by <VOLNAME>", s.volumeHeal),
		leaf("add-brick", "add brick to volume <VOLNAME>", s.volumeAddBrick),
		leaf("remove-brick", "remove brick from volume <VOLNAME>", s.volumeRemoveBrick),
		leaf("replace-brick", "replace-brick operations", s.volumeReplaceBrick),
		leaf("rebalance", "rebalance operations", s.volumeRebalance),
	)
	return vol
}

// parseCreate reads "volume create" words as GlusterFS's CLI does.
func parseCreate(args []string) (api.CreateRequest, error) {
	var req api.CreateRequest
	if len(args) < 2 {
		return req, usage(createUsage)
	}
	req.Name = args[0]
	if err := api.ValidateVolumeName(req.Name); err != nil {
		return req, err
	}
	count := func(i int, what string) (int, error) {
		if i+1 >= len(args) {
			return 0, usage(createUsage)
		}
		n, err := strconv.Atoi(args[i+1])
		if err != nil {
			return 0, api.Errorf("%s count should be a number", what)
		}
		return n, nil
	}
	i := 1
	transportSet := false
loop:
	for i < len(args) {
		switch args[i] {
		case "replica":
			if req.Replica != 0 {
				return req, api.Errorf("replica option given twice")
			}
			if req.Disperse != 0 || req.Redundancy != 0 {
				return req, api.Errorf("replicated-dispersed volume is not supported")
			}
			n, err := count(i, "replica")
			if err != nil || n < 2 {
				return req, api.Errorf("replica count should be greater than 1")
			}
			req.Replica = n
			i += 2
			if i < len(args) && args[i] == "arbiter" {
				a, err := count(i, "arbiter")
				if err != nil || a != 1 || n < 2 || n > 3 {
					return req, api.Errorf("For arbiter configuration, replica count must be 2 and arbiter count must be 1. The 3rd brick of the replica will be the arbiter")
				}
				req.Arbiter, req.Replica = 1, 3
				i += 2
			}
		case "arbiter":
			return req, api.Errorf("arbiter option must be preceded by replica option.")
		case "stripe":
			if req.Stripe != 0 {
				return req, api.Errorf("stripe option given twice")
			}
			n, err := count(i, "stripe")
			if err != nil || n < 2 {
				return req, api.Errorf("stripe count should be greater than 1")
			}
			req.Stripe = n
			i += 2
		case "disperse":
			if req.Disperse != 0 {
				return req, api.Errorf("disperse option given twice")
			}
			if req.Replica != 0 {
				return req, api.Errorf("replicated-dispersed volume is not supported")
			}
			n, err := count(i, "disperse")
			if err != nil {
				req.Disperse = -1 // "disperse" alone: all the bricks
				i++
				continue
			}
			if n < 3 {
				return req, api.Errorf("disperse count must be greater than 2")
			}
			req.Disperse = n
			i += 2
		case "redundancy":
			if req.Redundancy != 0 {
				return req, api.Errorf("redundancy option given twice")
			}
			if req.Replica != 0 {
				return req, api.Errorf("replicated-dispersed volume is not supported")
			}
			n, err := count(i, "redundancy")
			if err != nil || n < 1 {
				return req, api.Errorf("redundancy must be greater than 0")
			}
			req.Redundancy = n
			if req.Disperse == 0 {
				req.Disperse = -1
			}
			i += 2
		case "transport":
			if transportSet {
				return req, api.Errorf("'transport' option given more than one time")
			}
			if i+1 >= len(args) {
				return req, usage(createUsage)
			}
			t := strings.ToLower(args[i+1])
			if t != "tcp" && t != "rdma" && t != "tcp,rdma" && t != "rdma,tcp" {
				return req, api.Errorf("incorrect transport protocol specified: %s", args[i+1])
			}
			req.Transport, transportSet = t, true
			i += 2
		default:
			break loop
		}
	}
	bricks := args[i:]
	if n := len(bricks); n > 0 && bricks[n-1] == "force" {
		req.Force, bricks = true, bricks[:n-1]
	}
	if len(bricks) == 0 {
		return req, api.Errorf("No bricks specified")
	}
	seen := map[string]bool{}
	for _, b := range bricks {
		if _, _, err := api.ParseBrick(b); err != nil {
			return req, err
		}
		if seen[b] {
			return req, api.Errorf("Found duplicate exports %s", b)
		}
		seen[b] = true
	}
	req.Bricks = bricks
	if req.Disperse != 0 {
		if req.Disperse < 0 {
			if len(bricks) < 3 {
				return req, api.Errorf("number of bricks must be greater than 2")
			}
			req.Disperse = len(bricks)
		}
		if req.Redundancy == 0 {
			req.Redundancy = optimalRedundancy(req.Disperse)
		}
		if req.Redundancy > (req.Disperse-1)/2 {
			return req, api.Errorf("redundancy must be greater than or equal to 1 and less than %d for a disperse %d volume", (req.Disperse+1)/2, req.Disperse)
		}
	}
	return req, nil
}

// optimalRedundancy picks the redundancy GlusterFS proposes: the one that
// leaves a power of two data bricks, else 1.
func optimalRedundancy(disperse int) int {
	for r := 1; r <= (disperse-1)/2; r++ {
		d := disperse - r
		if d&(d-1) == 0 && r >= 1 {
			return r
		}
	}
	return 1
}

func (s *session) volumeCreate(args []string) error {
	req, err := parseCreate(args)
	if err != nil {
		if _, ok := err.(*failure); ok {
			return err
		}
		name := "<NEW-VOLNAME>"
		if len(args) > 0 {
			name = args[0]
		}
		return s.fail("volume create: "+name+": failed", err)
	}
	if req.Replica == 2 && req.Arbiter == 0 && !req.Force && !s.confirm(strings.TrimSuffix(replica2Question, "\n")) {
		return silent
	}
	var m api.Message
	if err := s.call("POST", "/v1/volume/create", req, &m); err != nil {
		return s.fail("volume create: "+req.Name+": failed", err)
	}
	if m.Warning != "" && !s.xml {
		fmt.Fprintln(s.errw, "Warning: "+m.Warning)
	}
	return s.volumeDone("volCreate", req.Name, m.VolumeID, "volume create: "+req.Name+": success: please start the volume to access data")
}

// volumeDone prints a volume operation's success, or GlusterFS's XML
// for it (<volStart><volume><name/><id/></volume></volStart>).
func (s *session) volumeDone(tag, name, id, text string) error {
	if !s.xml {
		fmt.Fprintln(s.out, text)
		return nil
	}
	s.xmlResult(0, 0, "", func(x *xmlWriter) {
		x.open(tag)
		x.open("volume")
		x.leaf("name", name)
		x.leaf("id", id)
		x.close("volume")
		x.close(tag)
	})
	return nil
}

// nameForce reads "<VOLNAME> [force]".
func nameForce(args []string, pattern string) (string, bool, error) {
	switch {
	case len(args) == 1:
		return args[0], false, nil
	case len(args) == 2 && args[1] == "force":
		return args[0], true, nil
	}
	return "", false, usage(pattern)
}

func (s *session) volumeStart(args []string) error {
	name, force, err := nameForce(args, "volume start <VOLNAME> [force]")
	if err != nil {
		return err
	}
	var m api.Message
	if err := s.call("POST", "/v1/volume/start", api.VolumeRequest{Name: name, Force: force}, &m); err != nil {
		return s.fail("volume start: "+name+": failed", err)
	}
	return s.volumeDone("volStart", name, m.VolumeID, "volume start: "+name+": success")
}

func (s *session) volumeStop(args []string) error {
	name, force, err := nameForce(args, "volume stop <VOLNAME> [force]")
	if err != nil {
		return err
	}
	if !s.confirm(stopQuestion) {
		return silent
	}
	var m api.Message
	if err := s.call("POST", "/v1/volume/stop", api.VolumeRequest{Name: name, Force: force}, &m); err != nil {
		return s.fail("volume stop: "+name+": failed", err)
	}
	return s.volumeDone("volStop", name, m.VolumeID, "volume stop: "+name+": success")
}

func (s *session) volumeDelete(args []string) error {
	if len(args) != 1 {
		return usage("volume delete <VOLNAME>")
	}
	name := args[0]
	if !s.confirm(deleteQuestion) {
		return silent
	}
	var m api.Message
	if err := s.call("POST", "/v1/volume/delete", api.VolumeRequest{Name: name}, &m); err != nil {
		return s.fail("volume delete: "+name+": failed", err)
	}
	return s.volumeDone("volDelete", name, m.VolumeID, "volume delete: "+name+": success")
}

func (s *session) volumeInfo(args []string) error {
	if len(args) > 1 {
		return usage("volume info [all|<VOLNAME>]")
	}
	name := "all"
	if len(args) == 1 {
		name = args[0]
	}
	var r api.InfoResponse
	if err := s.call("GET", "/v1/volume/info?name="+url.QueryEscape(name), nil, &r); err != nil {
		return s.fail("", err)
	}
	if s.xml {
		s.xmlInfo(r.Volumes)
		return nil
	}
	if len(r.Volumes) == 0 {
		fmt.Fprintln(s.errw, "No volumes present")
		return nil
	}
	for _, v := range r.Volumes {
		printInfo(s.out, v)
	}
	return nil
}

func (s *session) volumeList(args []string) error {
	if len(args) != 0 {
		return usage("volume list")
	}
	var r api.InfoResponse
	if err := s.call("GET", "/v1/volume/info?name=all", nil, &r); err != nil {
		return s.fail("", err)
	}
	if s.xml {
		s.xmlResult(0, 0, "", func(x *xmlWriter) {
			x.open("volList")
			x.leaf("count", len(r.Volumes))
			for _, v := range r.Volumes {
				x.leaf("volume", v.Name)
			}
			x.close("volList")
		})
		return nil
	}
	if len(r.Volumes) == 0 {
		fmt.Fprintln(s.errw, "No volumes present in cluster")
		return nil
	}
	for _, v := range r.Volumes {
		fmt.Fprintln(s.out, v.Name)
	}
	return nil
}

func (s *session) volumeStatus(args []string) error {
	const pattern = "volume status [all | <VOLNAME> [<BRICK>]] [detail]"
	name, brick, detail := "all", "", false
	if len(args) > 0 && args[0] != "detail" {
		name, args = args[0], args[1:]
	}
	if len(args) > 2 {
		return usage(pattern)
	}
	for _, w := range args {
		switch {
		case w == "detail" && !detail:
			detail = true
		case strings.Contains(w, ":/") && brick == "" && !detail:
			if name == "all" {
				return &failure{`Cannot specify brick/nfs for "all"`}
			}
			brick = w
		default:
			return &failure{fmt.Sprintf("%s is not a valid status option", w)}
		}
	}
	q := "name=" + url.QueryEscape(name)
	if detail {
		q += "&detail=1"
	}
	var r api.StatusResponse
	if err := s.call("GET", "/v1/volume/status?"+q, nil, &r); err != nil {
		return s.fail("", err)
	}
	if brick != "" {
		v := &r.Volumes[0]
		var keep []api.BrickStatus
		for _, b := range v.Bricks {
			if b.Host+":"+b.Path == brick {
				keep = append(keep, b)
			}
		}
		if len(keep) == 0 {
			return s.fail("", api.Errorf("No brick %s in volume %s", brick, name))
		}
		v.Bricks = keep
	}
	if s.xml {
		s.xmlStatus(r.Volumes, detail)
		return nil
	}
	for _, v := range r.Volumes {
		printStatus(s.out, v, detail)
	}
	return nil
}

func (s *session) volumeSet(args []string) error {
	const pattern = "volume set <VOLNAME> <KEY> <VALUE>"
	if len(args) < 3 || len(args)%2 != 1 {
		return usage(pattern)
	}
	req := api.SetRequest{Name: args[0]}
	for i := 1; i+1 < len(args); i += 2 {
		req.Options = append(req.Options, store.Option{Key: args[i], Value: args[i+1]})
	}
	if err := s.call("POST", "/v1/volume/set", req, nil); err != nil {
		return s.fail("volume set: failed", err)
	}
	return s.success("volSet", "", "volume set: success")
}

func (s *session) volumeReset(args []string) error {
	const pattern = "volume reset <VOLNAME> [option] [force]"
	req := api.ResetRequest{}
	switch {
	case len(args) == 1:
	case len(args) == 2 && args[1] == "force":
		req.Force = true
	case len(args) == 2:
		req.Key = args[1]
	case len(args) == 3 && args[2] == "force":
		req.Key, req.Force = args[1], true
	default:
		return usage(pattern)
	}
	req.Name = args[0]
	if err := s.call("POST", "/v1/volume/reset", req, nil); err != nil {
		return s.fail("volume reset: failed", err)
	}
	return s.success("volReset", "reset volume successful", "volume reset: success: reset volume successful")
}

func (s *session) volumeGet(args []string) error {
	if len(args) != 2 {
		return usage("volume get <VOLNAME|all> <key|all>")
	}
	var r api.GetResponse
	q := "name=" + url.QueryEscape(args[0]) + "&key=" + url.QueryEscape(args[1])
	if err := s.call("GET", "/v1/volume/get?"+q, nil, &r); err != nil {
		return s.fail("volume get option: failed", err)
	}
	if s.xml {
		s.xmlResult(0, 0, "", func(x *xmlWriter) {
			x.open("volGetopts")
			x.leaf("count", len(r.Options))
			for _, o := range r.Options {
				x.open("Opt")
				x.leaf("Option", o.Key)
				x.leaf("Value", o.Value)
				x.close("Opt")
			}
			x.close("volGetopts")
		})
		return nil
	}
	fmt.Fprintf(s.out, "%-40s%-40s\n", "Option", "Value")
	fmt.Fprintf(s.out, "%-40s%-40s\n", "------", "-----")
	for _, o := range r.Options {
		fmt.Fprintf(s.out, "%-40s%-40s\n", o.Key, o.Value)
	}
	return nil
}

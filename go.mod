module github.com/gluster-go/gluster-go

go 1.26.8

module github.com/meshcheck/meshcheck/go/pause

go 1.26.0

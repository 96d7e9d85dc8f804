module grol.io/grol

go 1.22

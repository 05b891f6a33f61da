module cgctl.io/examples/go-runtime

go 1.19

require cgctl.io/cgctl v0.0.0

replace cgctl.io/cgctl => ../../go

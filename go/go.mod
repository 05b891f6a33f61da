module cgctl.io/cgctl

go 1.19

package courier

const childEnv = "BIRJOB_COURIER_CHILD"

func runChild() {}

-- wrk: the URL as given (GET), reported like the others.
done = dofile(os.getenv("BENCH_LUA_DIR") .. "/summary.lua")

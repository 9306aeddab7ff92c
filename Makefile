# Builds and installs the extension with PGXS. Unit/integration tests and the benchmark driver are
# built by CMake (CMakeLists.txt); scripts/test.sh runs everything.
EXTENSION = pg_product_analytics
EXTVERSION = 0.1.0
MODULE_big = pg_product_analytics

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The install script is assembled from the per-family files (header first); scripts/expand_sql.py
# expands their overload loops (-- @for ... -- @end) at build time.
SQL_PARTS = src/sql/00_header.sql $(filter-out src/sql/00_header.sql,$(sort $(wildcard src/sql/*.sql)))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql $(OBJS:.o=.d)

REGRESS = retention funnel session cohort sequence parallel window errors hostile
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# -MMD -MP: objects depend on the headers they include (PGXS does not track that here), so a
# changed class layout always rebuilds every object using it.
PG_CXXFLAGS = -std=c++17 -O2 -Wall -Wextra -Werror -Wno-register -MMD -MP
# PostgreSQL's headers as system headers: -Wextra is for our code, not theirs.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)
SHLIB_LINK += -lstdc++
# Debian's PostgreSQL is built with LLVM: skip bitcode, whose clang call knows no C++17.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) scripts/expand_sql.py
	python3 scripts/expand_sql.py $(SQL_PARTS) > $@

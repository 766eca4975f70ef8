#!/bin/sh
# Stage an install of this build and build a tiny outside project against
# it twice: once with find_package(mailwire), once with pkg-config.
# Usage: run.sh BUILD_DIR WORK_DIR C_COMPILER
set -eu
build=$1 work=$2 cc=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

# 1. CMake package
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake-build" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
"$work/cmake-build/consumer_shared"
"$work/cmake-build/consumer_static"

# 2. pkg-config; the .pc file carries the configure-time prefix, so the
#    staged prefix is passed as an override.
pcdir=$(dirname "$(find "$prefix" -name mailwire.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --cflags --libs mailwire)
# shellcheck disable=SC2086
"$cc" -std=c99 -Wall -Werror -o "$work/consumer_pc" "$here/consumer.c" $flags
libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --variable=libdir mailwire)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
passed=3

# 2b. The README's "taste of the API" must compile and work as printed.
readme=$here/../../README.md
awk '/^```c$/{on=1; next} /^```$/{if(on){exit}} on' "$readme" > "$work/readme_taste.c"
[ -s "$work/readme_taste.c" ] || { echo "no C example found in README.md"; exit 1; }
# shellcheck disable=SC2086
"$cc" -std=c99 -Wall -Werror -o "$work/readme_taste" "$work/readme_taste.c" $flags
printf 'TWFp\r\nbHdp\ncmU=\r\n' > "$work/readme_in.txt"
got=$(LD_LIBRARY_PATH="$libdir" "$work/readme_taste" < "$work/readme_in.txt")
[ "$got" = "Mailwire" ] || { echo "README example printed '$got', expected 'Mailwire'"; exit 1; }
passed=$((passed + 1))

# 2c. The README's second example (an SMTP server session on stdin/stdout):
#     one recipient accepted, one refused, the dot-stuffed body unstuffed.
awk '/^```c$/{n++; if(n==2){on=1; next}} /^```$/{if(on){exit}} on' "$readme" > "$work/readme_smtp.c"
[ -s "$work/readme_smtp.c" ] || { echo "no second C example found in README.md"; exit 1; }
# shellcheck disable=SC2086
"$cc" -std=c99 -Wall -Werror -o "$work/readme_smtp" "$work/readme_smtp.c" $flags
printf 'EHLO pc.example\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<eve@example.com>\r\nDATA\r\nhi\r\n..dot\r\n.\r\nQUIT\r\n' \
    > "$work/readme_smtp_in.txt"
LD_LIBRARY_PATH="$libdir" "$work/readme_smtp" < "$work/readme_smtp_in.txt" \
    > "$work/readme_smtp_out.txt" 2> "$work/readme_smtp_err.txt" || { echo "README SMTP example failed"; exit 1; }
replies=$(tr -d '\r' < "$work/readme_smtp_out.txt" | grep -v '^250-' | cut -c1-3 | tr '\n' ' ')
[ "$replies" = "220 250 250 250 550 354 250 221 " ] || { echo "README SMTP example replied '$replies'"; exit 1; }
printf 'body: hi\r\n.dot\r\n' | cmp -s - "$work/readme_smtp_err.txt" || { echo "README SMTP example body differs"; exit 1; }
passed=$((passed + 1))

# 3. The OpenSSL adapter, when this build has it: mailwire::mailwire_openssl
#    (and its static twin) through find_package, then pkg-config
#    mailwire-openssl. The CMake project is written here so the plain
#    consumer project above stays free of OpenSSL.
if [ -n "$(find "$prefix" -name mailwire-openssl.pc)" ]; then
    src=$work/openssl-src
    mkdir -p "$src"
    cp "$here/consumer_openssl.c" "$src/"
    cat >"$src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(mailwire_consumer_openssl C)
find_package(mailwire 0.1 REQUIRED)
add_executable(consumer_openssl consumer_openssl.c)
target_link_libraries(consumer_openssl PRIVATE mailwire::mailwire_openssl)
add_executable(consumer_openssl_static consumer_openssl.c)
target_link_libraries(consumer_openssl_static PRIVATE mailwire::mailwire_openssl_static)
CMAKE
    cmake -S "$src" -B "$work/openssl-build" -DCMAKE_PREFIX_PATH="$prefix" \
          -DCMAKE_C_COMPILER="$cc" >"$work/openssl-cmake.log" 2>&1 || { cat "$work/openssl-cmake.log"; exit 1; }
    cmake --build "$work/openssl-build" >>"$work/openssl-cmake.log" 2>&1 || { cat "$work/openssl-cmake.log"; exit 1; }
    "$work/openssl-build/consumer_openssl"
    "$work/openssl-build/consumer_openssl_static"
    flags=$(PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
            pkg-config --define-variable=prefix="$prefix" --cflags --libs mailwire-openssl)
    # shellcheck disable=SC2086
    "$cc" -std=c99 -Wall -Werror -o "$work/consumer_openssl_pc" "$here/consumer_openssl.c" $flags
    LD_LIBRARY_PATH="$libdir" "$work/consumer_openssl_pc"
    passed=$((passed + 3))
fi
echo "$passed passed, 0 failed"

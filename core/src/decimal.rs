//! Decimal formatting of integers without allocating (status codes, SSE `retry`, request ids,
//! JSON-RPC error codes).

/// Room for the decimal digits of any `u64`.
pub(crate) const U64_DIGITS: usize = 20;

/// Writes `v` in decimal at the end of `buf` and returns the digits.
pub(crate) fn format_u64(mut v: u64, buf: &mut [u8; U64_DIGITS]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            // `v % 10` is below 10, so the cast is exact.
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// Appends `v` in decimal (with a leading `-` when negative) to `out`.
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; U64_DIGITS];
    out.extend_from_slice(format_u64(v.unsigned_abs(), &mut buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_signed_values() {
        for v in [0i64, 5, -1, -32_601, 32_000, i64::MIN, i64::MAX] {
            let mut out = b"x".to_vec();
            write_i64(&mut out, v);
            assert_eq!(out, format!("x{v}").into_bytes());
        }
    }

    #[test]
    fn formats_every_width() {
        let mut b = [0u8; U64_DIGITS];
        assert_eq!(format_u64(0, &mut b), b"0");
        assert_eq!(format_u64(7, &mut b), b"7");
        assert_eq!(format_u64(1500, &mut b), b"1500");
        assert_eq!(format_u64(u64::MAX, &mut b), b"18446744073709551615");
        for v in [9u64, 10, 99, 100, 65_535, 1 << 40] {
            assert_eq!(format_u64(v, &mut b), v.to_string().as_bytes());
        }
    }
}

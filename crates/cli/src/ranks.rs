//! `--ranks`: one rank count for a program, a list (`1,2,4`) or a range (`1..8`) for
//! `parsci scale` and `parsci amdahl`.

use std::fmt;

/// The value of `--ranks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranks {
    /// Rank counts in the order given (one for a program).
    List(Vec<usize>),
    /// From the first to the second, inclusive.
    Range(usize, usize),
}

impl Ranks {
    /// The one rank count of a program run.
    pub fn single(&self) -> Result<usize, String> {
        match self {
            Ranks::List(v) if v.len() == 1 => Ok(v[0]),
            _ => Err(format!(
                "--ranks {self}: a program runs at one rank count; lists and ranges are for `parsci scale` \
                 (e.g. parsci scale rootsum 100000000 --ranks {self})"
            )),
        }
    }

    /// The rank counts of a study: a list as given; a range as the powers of two in it,
    /// and its end.
    pub fn counts(&self) -> Vec<usize> {
        match self {
            Ranks::List(v) => v.clone(),
            Ranks::Range(lo, hi) => {
                let mut v: Vec<usize> = vec![*lo];
                let mut p = lo.next_power_of_two();
                while p <= *hi {
                    if p > *lo {
                        v.push(p);
                    }
                    p = p.saturating_mul(2);
                    if p == usize::MAX {
                        break;
                    }
                }
                if v.last() != Some(hi) {
                    v.push(*hi);
                }
                v
            }
        }
    }

    /// The smallest and largest rank count.
    pub fn bounds(&self) -> (usize, usize) {
        let v = self.counts();
        (v.iter().copied().min().unwrap_or(1), v.iter().copied().max().unwrap_or(1))
    }
}

impl fmt::Display for Ranks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ranks::List(v) => write!(f, "{}", v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")),
            Ranks::Range(a, b) => write!(f, "{a}..{b}"),
        }
    }
}

/// Parses `--ranks`: `N`, `N,M,...` or `A..B`, every count a whole number of at least 1.
pub fn parse_ranks(s: &str) -> Result<Ranks, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("give at least one rank count (e.g. --ranks 4, or --ranks 1,2,4 for parsci scale)".into());
    }
    if let Some((a, b)) = s.split_once("..") {
        let (a, b) = (one(a)?, one(b.trim_start_matches('='))?);
        if a > b {
            return Err(format!("the range {s} is empty: write the smaller rank count first"));
        }
        return Ok(Ranks::Range(a, b));
    }
    s.split(',').map(one).collect::<Result<Vec<_>, _>>().map(Ranks::List)
}

/// One rank count.
fn one(s: &str) -> Result<usize, String> {
    let s = s.trim();
    match s.parse::<i128>() {
        Ok(n) if n >= 1 && n <= usize::MAX as i128 => Ok(n as usize),
        Ok(n) => Err(format!("the number of ranks must be at least 1, got {n}")),
        Err(_) if s.is_empty() => Err("a rank count is missing in the list (e.g. --ranks 1,2,4)".into()),
        Err(_) => Err(format!("the number of ranks must be a whole number of at least 1, got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_ranks("3"), Ok(Ranks::List(vec![3])));
        assert_eq!(parse_ranks("1,2, 4").unwrap().counts(), [1, 2, 4]);
        assert_eq!(parse_ranks("1..1024").unwrap().counts().len(), 11);
        assert_eq!(parse_ranks("3..12").unwrap().counts(), [3, 4, 8, 12]);
        assert_eq!(parse_ranks("2..2").unwrap().counts(), [2]);
        assert_eq!(parse_ranks("1..8").unwrap().bounds(), (1, 8));
        assert!(parse_ranks("0").unwrap_err().contains("at least 1"));
        assert!(parse_ranks("1,0").unwrap_err().contains("at least 1"));
        assert!(parse_ranks("").unwrap_err().contains("at least one rank count"));
        assert!(parse_ranks("1,,2").unwrap_err().contains("missing"));
        assert!(parse_ranks("8..2").unwrap_err().contains("empty"));
        assert!(parse_ranks("x").unwrap_err().contains("whole number"));
        assert!(Ranks::List(vec![1, 2]).single().unwrap_err().contains("parsci scale"));
    }
}

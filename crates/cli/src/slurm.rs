//! `parsci slurm`: print a Slurm batch script that runs a parsci program with `srun`.
//!
//! The script asks for `--nodes` × `--tasks-per-node` MPI ranks and runs
//! `srun --mpi=pmix <binary> <program> <args>...`. Everything is checked before
//! anything is printed: the Slurm options, and the program with its arguments,
//! exactly as `parsci <program> <args>...` would check them.

use std::fmt;

use clap::{error::ErrorKind, Args, CommandFactory, Parser};

use crate::args::{Cli, GlobalArgs};

/// The most nodes, and the most tasks per node, one may ask for.
const MAX_COUNT: u32 = 100_000;

/// The longest time limit one may ask for: 365 days.
const MAX_SECONDS: u64 = 365 * DAY;

const DAY: u64 = 24 * 3600;

/// The long names of `parsci slurm`'s own options (all of them take a value).
const OPTIONS: [&str; 7] = ["nodes", "tasks-per-node", "time", "job-name", "partition", "account", "binary"];

/// How the options and the program are told apart, for `parsci slurm --help`.
const AFTER_HELP: &str = "\
Give parsci slurm's options before the program's name, or all together after the program's arguments:
  parsci slurm --nodes 2 --tasks-per-node 4 --time 00:10:00 rootsum 1234567
  parsci slurm mandelbrot 200 200 -1.5 0.5 -1 1 1000 --nodes 2 --tasks-per-node 4 --time 00:10:00
Everything from the program's name on belongs to the program, except such a closing group of
parsci slurm's options (an option that the program itself also takes stays the program's).
The program and its arguments are checked as `parsci <PROGRAM> [ARGS]...` checks them; leave out
--ranks: the job has N x T ranks.

Save the script and submit it:  parsci slurm ... > job.sh && sbatch job.sh";

/// `parsci slurm [OPTIONS] <PROGRAM> [ARGS]...`.
#[derive(Debug, Clone, Args)]
#[command(
    override_usage = "parsci slurm --nodes <N> --tasks-per-node <T> --time <TIME> [OPTIONS] <PROGRAM> [ARGS]...",
    after_help = AFTER_HELP
)]
pub struct SlurmArgs {
    /// The parsci program to run and its arguments, e.g. rootsum 1234567
    #[arg(value_name = "PROGRAM", trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    program: Vec<String>,
    /// Slurm's options given before the program's name.
    #[command(flatten)]
    options: SlurmOptions,
}

/// The options of `parsci slurm` (optional for clap, since they may also follow the program).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Slurm options")]
struct SlurmOptions {
    /// Number of nodes, 1 to 100000 (required)
    #[arg(long, value_name = "N", value_parser = parse_nodes)]
    nodes: Option<u32>,
    /// MPI ranks per node, 1 to 100000 (required); the job has N x T ranks
    #[arg(long, value_name = "T", value_parser = parse_tasks_per_node)]
    tasks_per_node: Option<u32>,
    /// Time limit (required): HH:MM:SS, D-HH:MM:SS, D-HH:MM, D-HH, MM:SS or minutes, as sbatch takes it
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    time: Option<TimeLimit>,
    /// Job name; the log is <NAME>-<job id>.out [default: parsci-<PROGRAM>]
    #[arg(long, value_name = "NAME", value_parser = parse_job_name)]
    job_name: Option<String>,
    /// Partition (queue) to submit to [default: the cluster's]
    #[arg(long, value_name = "P", value_parser = parse_partition)]
    partition: Option<String>,
    /// Account to charge the job to [default: yours]
    #[arg(long, value_name = "A", value_parser = parse_account)]
    account: Option<String>,
    /// The parsci executable the job runs, built with --features mpi [default: this executable]
    #[arg(long, value_name = "PATH", value_parser = parse_binary)]
    binary: Option<String>,
}

impl SlurmArgs {
    /// The batch script, or what is wrong with the command line.
    pub fn script(&self, global: &GlobalArgs) -> Result<String, String> {
        if let Some(ranks) = &global.ranks {
            return Err(format!(
                "--ranks {ranks} does not apply to parsci slurm: the job has --nodes x --tasks-per-node ranks"
            ));
        }
        if global.json {
            return Err("--json does not apply to parsci slurm; for a program that prints JSON, \
                        put --json after the program's name"
                .to_owned());
        }
        Ok(render(&self.job()?))
    }

    /// Splits off and checks the options that follow the program, then checks everything.
    fn job(&self) -> Result<Job, String> {
        let (program, rest) = self.program.split_first().ok_or("parsci slurm needs a program to run")?;
        check_program(program)?;
        let taken = program_options(program);
        let (args, group) = split_options(rest, &taken);
        if let Some(last) = args.last().filter(|a| option_name(a, &taken).is_some() && !a.contains('=')) {
            return Err(format!("{last} needs a value"));
        }
        if let Some(stray) = args.iter().find(|a| option_name(a, &taken).is_some()) {
            return Err(format!(
                "'{stray}' is among {program}'s arguments: give parsci slurm's options, each with its value, \
                 before the program's name or all together after the program's arguments"
            ));
        }
        let mut options = self.options.clone();
        for (name, value) in group {
            options.set(name, value)?;
        }
        let missing =
            |what: &str| format!("parsci slurm needs {what}, before the program's name or after its arguments");
        let nodes = options.nodes.ok_or_else(|| missing("--nodes <N>"))?;
        let tasks_per_node = options.tasks_per_node.ok_or_else(|| missing("--tasks-per-node <T>"))?;
        let time = options.time.ok_or_else(|| missing("--time <TIME>"))?;
        check_program_args(program, args)?;
        Ok(Job {
            nodes,
            tasks_per_node,
            time,
            name: options.job_name.unwrap_or_else(|| format!("parsci-{program}")),
            partition: options.partition,
            account: options.account,
            binary: options.binary.unwrap_or_else(default_binary),
            program: self.program[..1 + args.len()].to_vec(),
        })
    }
}

impl SlurmOptions {
    /// Sets the option `--name` from its text, as clap would; an option given twice is an error.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let invalid = |e: String| format!("invalid value '{value}' for '--{name}': {e}");
        match name {
            "nodes" => put(&mut self.nodes, name, parse_nodes(value).map_err(invalid)?),
            "tasks-per-node" => put(&mut self.tasks_per_node, name, parse_tasks_per_node(value).map_err(invalid)?),
            "time" => put(&mut self.time, name, parse_time(value).map_err(invalid)?),
            "job-name" => put(&mut self.job_name, name, parse_job_name(value).map_err(invalid)?),
            "partition" => put(&mut self.partition, name, parse_partition(value).map_err(invalid)?),
            "account" => put(&mut self.account, name, parse_account(value).map_err(invalid)?),
            "binary" => put(&mut self.binary, name, parse_binary(value).map_err(invalid)?),
            _ => Err(format!("parsci slurm has no option --{name}")),
        }
    }
}

/// Fills an empty option; an option given twice is an error.
fn put<T: fmt::Display>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), String> {
    match slot {
        Some(old) => Err(format!("--{name} is given twice ({old} and {value})")),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// A checked Slurm job: what the script asks for and runs.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    nodes: u32,
    tasks_per_node: u32,
    time: TimeLimit,
    name: String,
    partition: Option<String>,
    account: Option<String>,
    binary: String,
    /// The program's name, then its arguments.
    program: Vec<String>,
}

/// Renders the batch script.
fn render(job: &Job) -> String {
    let ranks = u64::from(job.nodes) * u64::from(job.tasks_per_node);
    let mut lines = vec![
        "#!/bin/bash".to_owned(),
        format!("#SBATCH --job-name={}", job.name),
        format!("#SBATCH --nodes={}", job.nodes),
        format!("#SBATCH --ntasks-per-node={}", job.tasks_per_node),
        format!("#SBATCH --time={}", job.time),
        format!("#SBATCH --output={}-%j.out", job.name),
    ];
    lines.extend(job.partition.iter().map(|p| format!("#SBATCH --partition={p}")));
    lines.extend(job.account.iter().map(|a| format!("#SBATCH --account={a}")));
    lines.extend(
        [
            "",
            "# Written by `parsci slurm`; submit it with `sbatch <this file>`.",
            "#",
            "# The parsci binary that srun runs below must be built with MPI, on the cluster,",
            "# against the same Open MPI that the cluster's srun uses:",
            "#     cargo build --release --features mpi",
            "# (`parsci slurm --binary <PATH>` names another binary than the one below).",
            "# If the cluster provides Open MPI as a module, load it here; module names vary",
            "# (`module avail openmpi` lists them), for example:",
            "# module load openmpi",
            "#",
            "# `srun --mpi=list` shows the MPI plugins of this cluster's Slurm; pmix is used below.",
            "",
        ]
        .map(str::to_owned),
    );
    lines.push(format!(
        "echo \"parsci {}: {ranks} ranks ({} nodes x {} tasks per node), Slurm job $SLURM_JOB_ID\"",
        job.program[0], job.nodes, job.tasks_per_node
    ));
    let command: Vec<String> = std::iter::once(&job.binary).chain(&job.program).map(|w| quote(w)).collect();
    lines.push(format!("srun --mpi=pmix --kill-on-bad-exit=1 {}", command.join(" ")));
    lines.join("\n") + "\n"
}

/// Quotes a word for bash: plain words stay as they are, others go in single quotes.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=+-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The running executable, else `parsci` (found on the PATH).
fn default_binary() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.into_os_string().into_string().ok())
        .unwrap_or_else(|| "parsci".to_owned())
}

/// Checks that `program` is a parsci program that a job can run.
fn check_program(program: &str) -> Result<(), String> {
    let cli = Cli::command();
    let programs: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).filter(|&n| n != "slurm").collect();
    if program == "slurm" {
        Err(format!("parsci slurm cannot run parsci slurm; name a program: {}", programs.join(", ")))
    } else if programs.contains(&program) {
        Ok(())
    } else {
        Err(format!("'{program}' is not a parsci program; the programs are: {}", programs.join(", ")))
    }
}

/// The long options that `program` takes, its own and the global ones.
fn program_options(program: &str) -> Vec<String> {
    let cli = Cli::command();
    let longs =
        |c: &clap::Command| c.get_arguments().filter_map(|a| a.get_long().map(str::to_owned)).collect::<Vec<_>>();
    let mut taken = longs(&cli);
    taken.extend(cli.find_subcommand(program).map(longs).unwrap_or_default());
    taken
}

/// Checks the program's arguments by parsing `parsci <program> <args>...`.
fn check_program_args(program: &str, args: &[String]) -> Result<(), String> {
    let argv = ["parsci", program].into_iter().chain(args.iter().map(String::as_str));
    match Cli::try_parse_from(argv) {
        Ok(cli) => match cli.global.ranks {
            Some(n) => Err(format!(
                "--ranks {n} does not apply under srun: the job has --nodes x --tasks-per-node ranks; leave --ranks out"
            )),
            None => Ok(()),
        },
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Err(format!("`parsci {program} {}` prints help rather than running {program}", args.join(" ")))
        }
        Err(e) => {
            // clap's message up to its usage, without its "error: ".
            let text = e.to_string();
            let message: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            Err(format!("invalid arguments for {program}: {message} (see `parsci {program} --help`)"))
        }
    }
}

/// Splits the program's arguments from a closing group of parsci slurm's options:
/// the group is the longest tail made only of `--option value` and `--option=value`.
fn split_options<'a>(rest: &'a [String], taken: &[String]) -> (&'a [String], Vec<(&'a str, &'a str)>) {
    (0..=rest.len())
        .find_map(|i| option_group(&rest[i..], taken).map(|group| (&rest[..i], group)))
        .unwrap_or((rest, Vec::new()))
}

/// The `(name, value)` pairs, if all of `tokens` are parsci slurm's options with their values.
fn option_group<'a>(tokens: &'a [String], taken: &[String]) -> Option<Vec<(&'a str, &'a str)>> {
    let mut group = Vec::new();
    let mut rest = tokens;
    while let Some((first, tail)) = rest.split_first() {
        let name = option_name(first, taken)?;
        match first.split_once('=') {
            Some((_, value)) => {
                group.push((name, value));
                rest = tail;
            }
            None => {
                let (value, tail) = tail.split_first()?;
                group.push((name, value.as_str()));
                rest = tail;
            }
        }
    }
    Some(group)
}

/// The name of parsci slurm's option that `token` gives (`--name` or `--name=value`),
/// unless the program takes an option of that name too.
fn option_name<'a>(token: &'a str, taken: &[String]) -> Option<&'a str> {
    let name = token.strip_prefix("--")?;
    let name = name.split_once('=').map_or(name, |(name, _)| name);
    (OPTIONS.contains(&name) && !taken.iter().any(|t| t == name)).then_some(name)
}

/// Parses `--nodes`.
fn parse_nodes(s: &str) -> Result<u32, String> {
    parse_count("nodes", s)
}

/// Parses `--tasks-per-node`.
fn parse_tasks_per_node(s: &str) -> Result<u32, String> {
    parse_count("tasks per node", s)
}

/// A whole number from 1 to [`MAX_COUNT`].
fn parse_count(what: &str, s: &str) -> Result<u32, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if (1..=i128::from(MAX_COUNT)).contains(&n) => Ok(n as u32),
        _ => Err(format!("the number of {what} must be a whole number from 1 to {MAX_COUNT}, got '{s}'")),
    }
}

/// Parses `--job-name`.
fn parse_job_name(s: &str) -> Result<String, String> {
    parse_name("job name", s, "")
}

/// Parses `--partition` (a comma-separated list lets Slurm pick the first free one).
fn parse_partition(s: &str) -> Result<String, String> {
    parse_name("partition", s, ",")
}

/// Parses `--account`.
fn parse_account(s: &str) -> Result<String, String> {
    parse_name("account", s, "")
}

/// A name for an `#SBATCH` line: 1 to 128 letters, digits, `_ . + -` and the characters in `extra`.
fn parse_name(what: &str, s: &str, extra: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.+-".contains(c) || extra.contains(c);
    if (1..=128).contains(&s.len()) && s.chars().all(ok) {
        Ok(s.to_owned())
    } else {
        let allowed: Vec<String> = format!("_.+-{extra}").chars().map(String::from).collect();
        Err(format!(
            "the {what} must be 1 to 128 letters, digits or {}, without spaces, got '{}'",
            allowed.join(" "),
            s.escape_debug()
        ))
    }
}

/// Parses `--binary`: a path without control characters such as newlines.
fn parse_binary(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().any(char::is_control) {
        Err(format!(
            "the parsci binary must be a path without newlines or other control characters, got '{}'",
            s.escape_debug()
        ))
    } else {
        Ok(s.to_owned())
    }
}

/// A Slurm time limit, shown as `HH:MM:SS` or `D-HH:MM:SS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    seconds: u64,
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, rest) = (self.seconds / DAY, self.seconds % DAY);
        let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
        if days > 0 {
            write!(f, "{days}-{h:02}:{m:02}:{s:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

/// Parses `--time` in sbatch's formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
fn parse_time(s: &str) -> Result<TimeLimit, String> {
    let t = s.trim();
    let bad = || format!("the time limit must be HH:MM:SS, D-HH:MM:SS, D-HH:MM, D-HH, MM:SS or minutes, got '{s}'");
    let number = |part: &str| match part.len() {
        1..=9 if part.bytes().all(|b| b.is_ascii_digit()) => part.parse::<u64>().map_err(|_| bad()),
        _ => Err(bad()),
    };
    let (days, clock) = match t.split_once('-') {
        Some((d, clock)) => (Some(number(d)?), clock),
        None => (None, t),
    };
    let parts = clock.split(':').map(number).collect::<Result<Vec<u64>, String>>()?;
    let (h, m, sec) = match (days, parts.as_slice()) {
        (None, &[m]) => (0, m, 0),
        (None, &[m, s]) => (0, m, s),
        (None, &[h, m, s]) | (Some(_), &[h, m, s]) => (h, m, s),
        (Some(_), &[h]) => (h, 0, 0),
        (Some(_), &[h, m]) => (h, m, 0),
        _ => return Err(bad()),
    };
    // Only the leading field may be 60 or more (`90` is 90 minutes, `48:00:00` two days).
    let leading_minutes = days.is_none() && parts.len() <= 2;
    for (value, limit, unit, checked) in
        [(sec, 60, "seconds", true), (m, 60, "minutes", !leading_minutes), (h, 24, "hours", days.is_some())]
    {
        if checked && value >= limit {
            return Err(format!("the {unit} in the time limit '{s}' must be 0 to {}, got {value}", limit - 1));
        }
    }
    let seconds = days.unwrap_or(0) * DAY + h * 3600 + m * 60 + sec;
    match seconds {
        0 => Err(format!("the time limit must be more than zero, got '{s}'")),
        _ if seconds > MAX_SECONDS => Err(format!("the time limit must be at most 365 days, got '{s}'")),
        seconds => Ok(TimeLimit { seconds }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Command;

    /// Parses `parsci slurm <args>...` and checks it.
    fn slurm(args: &[&str]) -> Result<Job, String> {
        let cli = Cli::try_parse_from(["parsci", "slurm"].iter().chain(args)).map_err(|e| e.to_string())?;
        let Command::Slurm(s) = &cli.command else { panic!("not slurm") };
        s.script(&cli.global)?;
        s.job()
    }

    fn job(program: &[&str]) -> Job {
        Job {
            nodes: 2,
            tasks_per_node: 4,
            time: TimeLimit { seconds: 600 },
            name: "parsci-rootsum".to_owned(),
            partition: None,
            account: None,
            binary: "/opt/parsci/bin/parsci".to_owned(),
            program: program.iter().map(|s| s.to_string()).collect(),
        }
    }

    const OPTS: [&str; 8] = ["--nodes", "2", "--tasks-per-node", "4", "--time", "00:10:00", "--binary", "/b/parsci"];

    #[test]
    fn options_before_the_program() {
        let args = [&OPTS[..], &["rootsum", "1234567"]].concat();
        let mut expected = job(&["rootsum", "1234567"]);
        expected.binary = "/b/parsci".to_owned();
        assert_eq!(slurm(&args), Ok(expected));
    }

    #[test]
    fn options_after_the_program() {
        let lesson = ["mandelbrot", "200", "200", "-1.5", "0.5", "-1", "1", "1000", "--strategy", "dynamic"];
        let j = slurm(&[&lesson[..], &OPTS].concat()).unwrap();
        assert_eq!(j.program, lesson);
        assert_eq!((j.nodes, j.tasks_per_node, j.time.to_string()), (2, 4, "00:10:00".to_owned()));
        assert_eq!(j.name, "parsci-mandelbrot");

        // Some before, some after, with `=`.
        let j = slurm(&["--nodes=3", "--time", "1-0", "hello", "--tasks-per-node=8", "--job-name", "hi"]).unwrap();
        assert_eq!((j.nodes, j.tasks_per_node, j.time.to_string()), (3, 8, "1-00:00:00".to_owned()));
        assert_eq!((j.name.as_str(), j.program.clone()), ("hi", vec!["hello".to_owned()]));

        // The program's own options and the global ones stay the program's.
        let j = slurm(&[&OPTS[..], &["taskfarm", "--jobs", "5", "--json"]].concat()).unwrap();
        assert_eq!(j.program, ["taskfarm", "--jobs", "5", "--json"]);
    }

    #[test]
    fn an_option_the_program_takes_stays_the_programs() {
        let taken = vec!["time".to_owned()];
        let rest: Vec<String> = ["5", "--time", "3", "--nodes", "2"].map(String::from).into();
        let (args, group) = split_options(&rest, &taken);
        assert_eq!(args, ["5", "--time", "3"]);
        assert_eq!(group, [("nodes", "2")]);
        let (args, group) = split_options(&rest, &[]);
        assert_eq!((args, group), (&rest[..1], vec![("time", "3"), ("nodes", "2")]));
    }

    #[test]
    fn bad_command_lines_are_explained() {
        let err = |args: &[&str]| slurm(args).unwrap_err();
        assert!(err(&[&OPTS[..], &["frobnicate"]].concat()).contains("'frobnicate' is not a parsci program"));
        assert!(err(&[&OPTS[..], &["slurm", "hello"]].concat()).contains("cannot run parsci slurm"));
        assert!(err(&[&OPTS[..], &["rootsum", "0"]].concat()).contains("invalid arguments for rootsum"));
        assert!(err(&[&OPTS[..], &["rootsum"]].concat()).contains("not provided: <M>"));
        assert!(err(&[&OPTS[..], &["rootsum", "5", "--help"]].concat()).contains("prints help"));
        assert!(err(&[&OPTS[..], &["hello", "--ranks", "4"]].concat()).contains("leave --ranks out"));
        assert!(err(&["--ranks", "4", "hello", "--nodes", "1"]).contains("--ranks 4 does not apply"));
        assert!(err(&["--nodes", "2", "hello", "--tasks-per-node", "1"]).contains("needs --time <TIME>"));
        assert!(err(&["hello", "--time", "5", "--tasks-per-node", "1"]).contains("needs --nodes <N>"));
        assert!(err(&["--nodes", "2", "hello", "--nodes", "3"]).contains("--nodes is given twice (2 and 3)"));
        assert!(err(&["hello", "--nodes", "0"]).contains("invalid value '0' for '--nodes'"));
        assert!(err(&["hello", "--nodes", "2", "--time", "5", "--tasks-per-node"])
            .contains("--tasks-per-node needs a value"));
        assert!(err(&["hello", "--nodes", "2", "5", "--time", "5"]).contains("'--nodes' is among hello's arguments"));
        assert!(err(&["--nodes", "0", "hello"]).contains("from 1 to 100000, got '0'"));
        assert!(err(&["--time", "25:61:00", "hello"]).contains("minutes in the time limit '25:61:00' must be 0 to 59"));
        assert!(err(&["--job-name", "my job", "hello"]).contains("got 'my job'"));
        assert!(err(&["--nodes", "1"]).contains("<PROGRAM>"));
    }

    #[test]
    fn counts_are_checked() {
        assert_eq!(parse_nodes("2"), Ok(2));
        assert_eq!(parse_tasks_per_node("100000"), Ok(100_000));
        for bad in ["0", "-1", "100001", "1.5", "x", ""] {
            let e = parse_nodes(bad).unwrap_err();
            assert_eq!(e, format!("the number of nodes must be a whole number from 1 to 100000, got '{bad}'"));
        }
        assert!(parse_tasks_per_node("0").unwrap_err().contains("tasks per node"));
    }

    #[test]
    fn times_in_every_sbatch_format() {
        let t = |s: &str| parse_time(s).map(|t| t.to_string());
        assert_eq!(t("00:10:00"), Ok("00:10:00".into()));
        assert_eq!(t("48:00:00"), Ok("2-00:00:00".into()));
        assert_eq!(t("1-02:03:04"), Ok("1-02:03:04".into()));
        assert_eq!(t("2-5"), Ok("2-05:00:00".into()));
        assert_eq!(t("2-5:30"), Ok("2-05:30:00".into()));
        assert_eq!(t("90"), Ok("01:30:00".into()));
        assert_eq!(t("10:30"), Ok("00:10:30".into()));
        assert_eq!(t("365-0"), Ok("365-00:00:00".into()));
    }

    #[test]
    fn bad_times_are_explained() {
        let e = |s: &str| parse_time(s).unwrap_err();
        assert_eq!(e("25:61:00"), "the minutes in the time limit '25:61:00' must be 0 to 59, got 61");
        assert!(e("00:00:60").contains("seconds in the time limit '00:00:60' must be 0 to 59, got 60"));
        assert!(e("1-24:00:00").contains("hours in the time limit '1-24:00:00' must be 0 to 23, got 24"));
        assert!(e("1-0:60").contains("minutes"));
        assert_eq!(e("00:00:00"), "the time limit must be more than zero, got '00:00:00'");
        assert!(e("0-0").contains("more than zero"));
        assert!(e("366-00:00:00").contains("at most 365 days"));
        for bad in ["", "abc", "1:2:3:4", "-5", "1-", "1--2", "1-2:3:4:5", ":30", "1:-2", "+5", "1 h", "9999999999"] {
            assert!(e(bad).starts_with("the time limit must be HH:MM:SS, D-HH:MM:SS"), "{bad}: {}", e(bad));
        }
    }

    #[test]
    fn names_and_paths_are_checked() {
        assert_eq!(parse_job_name("run_01.a+b-c"), Ok("run_01.a+b-c".to_owned()));
        assert_eq!(parse_partition("gpu,cpu"), Ok("gpu,cpu".to_owned()));
        assert!(parse_account("a,b").unwrap_err().contains("the account must be 1 to 128 letters"));
        assert!(parse_job_name("a\nb").unwrap_err().ends_with("got 'a\\nb'"));
        assert!(parse_job_name("").is_err() && parse_job_name("50%").is_err() && parse_job_name("a/b").is_err());
        assert!(parse_job_name(&"x".repeat(129)).is_err());
        assert_eq!(parse_binary("/path with space/parsci"), Ok("/path with space/parsci".to_owned()));
        assert!(parse_binary("a\nb").unwrap_err().contains("without newlines"));
    }

    #[test]
    fn words_are_quoted_for_bash() {
        assert_eq!(quote("-1.5"), "-1.5");
        assert_eq!(quote("/opt/x_1/parsci"), "/opt/x_1/parsci");
        assert_eq!(quote("--output=a:b+c"), "--output=a:b+c");
        assert_eq!(quote("two words"), "'two words'");
        assert_eq!(quote("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(quote("'"), r"''\'''");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("*;`x`"), "'*;`x`'");
    }

    #[test]
    fn the_script() {
        let script = render(&job(&["rootsum", "1234567"]));
        assert_eq!(
            script.lines().take(6).collect::<Vec<_>>(),
            [
                "#!/bin/bash",
                "#SBATCH --job-name=parsci-rootsum",
                "#SBATCH --nodes=2",
                "#SBATCH --ntasks-per-node=4",
                "#SBATCH --time=00:10:00",
                "#SBATCH --output=parsci-rootsum-%j.out",
            ]
        );
        assert!(!script.contains("--partition") && !script.contains("--account"));
        assert!(script.contains("# module load openmpi\n") && script.contains("cargo build --release --features mpi"));
        assert!(script
            .contains("\necho \"parsci rootsum: 8 ranks (2 nodes x 4 tasks per node), Slurm job $SLURM_JOB_ID\"\n"));
        assert!(
            script.ends_with("\nsrun --mpi=pmix --kill-on-bad-exit=1 /opt/parsci/bin/parsci rootsum 1234567\n"),
            "{script}"
        );
        assert_eq!(script.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count(), 2, "{script}");
    }

    #[test]
    fn the_script_with_every_option() {
        let mut j = job(&["mandelbrot", "200", "200", "-1.5", "0.5", "-1", "1", "1000", "-o", "my set's.png"]);
        j.partition = Some("gpu".to_owned());
        j.account = Some("proj42".to_owned());
        j.binary = "/home/me/my code/parsci".to_owned();
        j.time = TimeLimit { seconds: DAY + 1 };
        let script = render(&j);
        assert!(script.contains("#SBATCH --time=1-00:00:01\n#SBATCH --output=parsci-rootsum-%j.out\n"), "{script}");
        assert!(script.contains("\n#SBATCH --partition=gpu\n#SBATCH --account=proj42\n"), "{script}");
        let srun = script.lines().last().unwrap();
        assert_eq!(
            srun,
            r"srun --mpi=pmix --kill-on-bad-exit=1 '/home/me/my code/parsci' mandelbrot 200 200 -1.5 0.5 -1 1 1000 -o 'my set'\''s.png'"
        );
    }

    #[test]
    fn the_binary_defaults_to_this_executable() {
        let j = slurm(&["--nodes", "1", "--tasks-per-node", "1", "--time", "5", "hello"]).unwrap();
        assert_eq!(Some(j.binary), std::env::current_exe().ok().and_then(|p| p.to_str().map(str::to_owned)));
    }
}

namespace Flowers.Acquire;

/// <summary>A photo a run left out (unreadable, ambiguous, too large...): every stage from acquire on may add one.</summary>
/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
/// <param name="Reason">Why it was left out, in words a user understands.</param>
public sealed record SkippedPhoto(string Image, string Reason);
